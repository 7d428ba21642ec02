-- Bulk imports: the uploaded file (in chunks, so that any replica can process it and none holds
-- it in memory), the job's progress, and a result per row.
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    collection TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('ndjson', 'csv')),
    mode TEXT NOT NULL CHECK (mode IN ('all_or_nothing', 'partial')),
    status TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'validating', 'applying', 'succeeded', 'failed')),
    bytes BIGINT NOT NULL,
    rows_processed BIGINT NOT NULL,
    rows_created BIGINT NOT NULL,
    rows_updated BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    error TEXT,
    -- A worker's claim: until then no other replica processes the import.
    claimed_until TIMESTAMP(6),
    created_at TIMESTAMP(6) NOT NULL,
    started_at TIMESTAMP(6),
    finished_at TIMESTAMP(6)
);
CREATE INDEX imports_status ON imports (status, created_at);
CREATE INDEX imports_owner ON imports (owner, id);

CREATE TABLE import_chunks (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_results (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'rejected')),
    entity_id TEXT,
    -- JSON: the problems with the row, as problem+json `errors` items.
    errors TEXT,
    PRIMARY KEY (import_id, line)
);
