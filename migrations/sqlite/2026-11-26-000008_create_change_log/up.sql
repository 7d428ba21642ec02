-- The change feed: one row per create, update and delete, written in the transaction that made
-- the change. SQLite has one writer at a time, so rows commit in seq order and txid stays 0.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    txid BIGINT NOT NULL DEFAULT 0,
    occurred_at TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    version BIGINT NOT NULL,
    state TEXT,
    audience TEXT NOT NULL CHECK (audience IN ('public', 'parties', 'admins')),
    party_a TEXT,
    party_b TEXT
);
CREATE INDEX changes_position ON changes (txid, seq);
CREATE INDEX changes_occurred_at ON changes (occurred_at);

CREATE TABLE change_log_pruned (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
