-- Applications to phases and the awards (contracts) made from them. The challenge and its owner
-- are copied onto each row (they never change) so that who may see a row is decided on the row.
CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    phase_id TEXT NOT NULL REFERENCES phases (id),
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    owner_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    supplier_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    amount_requested_amount BIGINT NOT NULL CHECK (amount_requested_amount >= 0),
    amount_requested_currency TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'shortlisted', 'successful', 'unsuccessful', 'withdrawn')),
    assessment_score INTEGER CHECK (assessment_score BETWEEN 0 AND 100),
    submitted_at TEXT,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One application per supplier per phase.
CREATE UNIQUE INDEX applications_phase_supplier_key ON applications (phase_id, supplier_organisation_id);
CREATE INDEX applications_supplier ON applications (supplier_organisation_id, id);
CREATE INDEX applications_owner ON applications (owner_organisation_id, id);
CREATE INDEX applications_created_at_id ON applications (created_at, id);
CREATE INDEX applications_updated_at_id ON applications (updated_at, id);

CREATE TABLE awards (
    id TEXT PRIMARY KEY NOT NULL,
    phase_id TEXT NOT NULL REFERENCES phases (id),
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    owner_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    supplier_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    contract_reference TEXT NOT NULL,
    amount_amount BIGINT NOT NULL CHECK (amount_amount >= 0),
    amount_currency TEXT NOT NULL,
    vat_included INTEGER NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    parent_award_id TEXT REFERENCES awards (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'terminated')),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
-- One award per application.
CREATE UNIQUE INDEX awards_application_key ON awards (application_id);
CREATE INDEX awards_phase ON awards (phase_id, id);
CREATE INDEX awards_supplier ON awards (supplier_organisation_id, id);
CREATE INDEX awards_status ON awards (status, id);
CREATE INDEX awards_created_at_id ON awards (created_at, id);
CREATE INDEX awards_updated_at_id ON awards (updated_at, id);
