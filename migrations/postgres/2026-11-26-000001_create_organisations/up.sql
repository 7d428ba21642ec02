-- Organisations: public bodies, suppliers, funders. Ids are UUID text and enumerations are TEXT with
-- a CHECK, so that one portable diesel schema serves PostgreSQL and SQLite alike.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('local_authority', 'central_government', 'nhs', 'other_public', 'sme', 'large_business', 'academic', 'charity')),
    scale TEXT CHECK (scale IN ('micro', 'small', 'medium', 'large')),
    region TEXT CHECK (region IN ('north_east', 'north_west', 'yorkshire_and_the_humber', 'east_midlands', 'west_midlands', 'east_of_england', 'london', 'south_east', 'south_west', 'wales', 'scotland', 'northern_ireland')),
    identifier_scheme TEXT CHECK (identifier_scheme IN ('GB-COH', 'GB-CHC', 'GB-PPON', 'GB-LAE')),
    identifier TEXT,
    website TEXT,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CHECK ((identifier_scheme IS NULL) = (identifier IS NULL))
);

-- One organisation per registered identifier.
CREATE UNIQUE INDEX organisations_identifier_key ON organisations (identifier_scheme, identifier);
-- Keyset pagination: every sort ends with id.
CREATE INDEX organisations_name_id ON organisations (name, id);
CREATE INDEX organisations_created_at_id ON organisations (created_at, id);
CREATE INDEX organisations_updated_at_id ON organisations (updated_at, id);
CREATE INDEX organisations_kind_id ON organisations (kind, id);
CREATE INDEX organisations_region_id ON organisations (region, id);
