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
    submitted_at TIMESTAMP(6),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
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
    -- The sum of the award's paid milestones, kept by every payment; the CHECK below keeps
    -- payments within the award whatever runs concurrently.
    paid_amount BIGINT NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    vat_included BOOLEAN NOT NULL,
    starts_on DATE,
    ends_on DATE,
    parent_award_id TEXT REFERENCES awards (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'terminated')),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on),
    CHECK (paid_amount <= amount_amount)
);
-- One award per application.
CREATE UNIQUE INDEX awards_application_key ON awards (application_id);
CREATE INDEX awards_phase ON awards (phase_id, id);
CREATE INDEX awards_supplier ON awards (supplier_organisation_id, id);
CREATE INDEX awards_status ON awards (status, id);
CREATE INDEX awards_created_at_id ON awards (created_at, id);
CREATE INDEX awards_updated_at_id ON awards (updated_at, id);

-- Milestones of an award: deliveries, reports and payments (in tranches). Supplier and owner are
-- copied from the award so that who may see a row is decided on the row.
CREATE TABLE milestones (
    id TEXT PRIMARY KEY NOT NULL,
    award_id TEXT NOT NULL REFERENCES awards (id),
    supplier_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    owner_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('delivery', 'report', 'payment')),
    title TEXT NOT NULL,
    due_on DATE,
    amount_amount BIGINT CHECK (amount_amount >= 0),
    amount_currency TEXT,
    status TEXT NOT NULL CHECK (status IN ('planned', 'invoiced', 'paid', 'withheld')),
    paid_on DATE,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK ((amount_amount IS NULL) = (amount_currency IS NULL)),
    CHECK (status <> 'paid' OR paid_on IS NOT NULL)
);
CREATE INDEX milestones_award ON milestones (award_id, id);
CREATE INDEX milestones_supplier ON milestones (supplier_organisation_id, id);
CREATE INDEX milestones_owner ON milestones (owner_organisation_id, id);
CREATE INDEX milestones_due_on_id ON milestones (due_on, id);
CREATE INDEX milestones_created_at_id ON milestones (created_at, id);
CREATE INDEX milestones_updated_at_id ON milestones (updated_at, id);
