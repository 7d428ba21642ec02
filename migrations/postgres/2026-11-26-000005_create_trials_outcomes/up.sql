-- Trials of solutions with a host body, and their measured outcomes. Sites are a JSON array in
-- TEXT; the award's supplier is copied so that who may see a trial is decided on its row.
CREATE TABLE trials (
    id TEXT PRIMARY KEY NOT NULL,
    award_id TEXT REFERENCES awards (id),
    host_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    supplier_organisation_id TEXT REFERENCES organisations (id),
    title TEXT NOT NULL,
    sites TEXT NOT NULL,
    units INTEGER CHECK (units >= 0),
    unit_label TEXT,
    starts_on DATE,
    ends_on DATE,
    public BOOLEAN NOT NULL,
    result TEXT,
    adopted BOOLEAN,
    follow_on_value_amount BIGINT CHECK (follow_on_value_amount >= 0),
    follow_on_value_currency TEXT,
    status TEXT NOT NULL CHECK (status IN ('planned', 'live', 'completed', 'stopped')),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on),
    CHECK ((follow_on_value_amount IS NULL) = (follow_on_value_currency IS NULL))
);
CREATE INDEX trials_host ON trials (host_organisation_id, id);
CREATE INDEX trials_supplier ON trials (supplier_organisation_id, id);
CREATE INDEX trials_award ON trials (award_id);
CREATE INDEX trials_created_at_id ON trials (created_at, id);
CREATE INDEX trials_updated_at_id ON trials (updated_at, id);

CREATE TABLE outcomes (
    id TEXT PRIMARY KEY NOT NULL,
    trial_id TEXT NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('key_finding', 'product', 'intellectual_property', 'further_funding', 'policy_influence')),
    metric TEXT NOT NULL,
    unit TEXT,
    baseline DOUBLE PRECISION,
    target DOUBLE PRECISION,
    actual DOUBLE PRECISION,
    measured_on DATE,
    notes TEXT,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX outcomes_trial ON outcomes (trial_id, id);
CREATE INDEX outcomes_created_at_id ON outcomes (created_at, id);
CREATE INDEX outcomes_updated_at_id ON outcomes (updated_at, id);
