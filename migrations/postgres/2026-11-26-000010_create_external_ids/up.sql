-- Partners' keys for records, for every collection: a source's key names one record of a
-- collection, and a record has one key per source.
CREATE TABLE external_ids (
    entity TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at TIMESTAMP(6) NOT NULL,
    PRIMARY KEY (entity, source, external_id)
);
CREATE UNIQUE INDEX external_ids_one_per_source ON external_ids (entity, entity_id, source);
