-- Programmes fund rounds of challenges; a challenge runs in numbered phases. Money is an integer
-- amount of minor units with its currency; themes and documents are JSON arrays in TEXT.
CREATE TABLE programmes (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    funder_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    budget_amount BIGINT NOT NULL CHECK (budget_amount >= 0),
    budget_currency TEXT NOT NULL,
    opens_on DATE,
    closes_on DATE,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK (closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on)
);
CREATE UNIQUE INDEX programmes_code_key ON programmes (code);
CREATE INDEX programmes_title_id ON programmes (title, id);
CREATE INDEX programmes_created_at_id ON programmes (created_at, id);
CREATE INDEX programmes_updated_at_id ON programmes (updated_at, id);
CREATE INDEX programmes_funder_organisation_id ON programmes (funder_organisation_id);

CREATE TABLE challenges (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    owner_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    problem_statement TEXT NOT NULL,
    themes TEXT NOT NULL,
    documents TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'assessing', 'in_delivery', 'completed', 'cancelled')),
    opens_at TIMESTAMP(6),
    closes_at TIMESTAMP(6),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE UNIQUE INDEX challenges_reference_key ON challenges (reference);
CREATE INDEX challenges_programme_id ON challenges (programme_id, id);
CREATE INDEX challenges_owner_organisation_id ON challenges (owner_organisation_id, id);
CREATE INDEX challenges_status_id ON challenges (status, id);
CREATE INDEX challenges_title_id ON challenges (title, id);
CREATE INDEX challenges_created_at_id ON challenges (created_at, id);
CREATE INDEX challenges_updated_at_id ON challenges (updated_at, id);

CREATE TABLE phases (
    id TEXT PRIMARY KEY NOT NULL,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 9),
    kind TEXT NOT NULL CHECK (kind IN ('feasibility', 'prototype', 'deployment')),
    budget_amount BIGINT NOT NULL CHECK (budget_amount >= 0),
    budget_currency TEXT NOT NULL,
    max_award_amount BIGINT NOT NULL CHECK (max_award_amount >= 0),
    max_award_currency TEXT NOT NULL,
    -- The sum of the phase's awards, kept by every award write; the CHECK below makes the budget
    -- rule hold whatever runs concurrently.
    committed_amount BIGINT NOT NULL DEFAULT 0 CHECK (committed_amount >= 0),
    max_suppliers INTEGER CHECK (max_suppliers >= 1),
    starts_on DATE,
    ends_on DATE,
    open_to_all BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'open', 'assessing', 'in_delivery', 'completed', 'cancelled')),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK (max_award_amount <= budget_amount),
    CHECK (committed_amount <= budget_amount),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE UNIQUE INDEX phases_challenge_id_number_key ON phases (challenge_id, number);
CREATE INDEX phases_created_at_id ON phases (created_at, id);
CREATE INDEX phases_updated_at_id ON phases (updated_at, id);
