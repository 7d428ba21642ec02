-- The change feed: one row per create, update and delete, written in the transaction that made
-- the change. Transactions commit out of order, so a row's place in the feed is (txid, seq), and
-- readers only take rows whose transaction is older than every one still running.
CREATE TABLE changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid BIGINT NOT NULL DEFAULT txid_current(),
    occurred_at TIMESTAMP(6) NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    version BIGINT NOT NULL,
    state TEXT,
    -- Who may see the change: 'public', the 'parties' named below (and programme staff), or
    -- 'admins'.
    audience TEXT NOT NULL CHECK (audience IN ('public', 'parties', 'admins')),
    party_a TEXT,
    party_b TEXT
);
CREATE INDEX changes_position ON changes (txid, seq);
CREATE INDEX changes_occurred_at ON changes (occurred_at);

-- The newest position pruned from the feed: an older cursor has missed changes (410 Gone).
CREATE TABLE change_log_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    txid BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
