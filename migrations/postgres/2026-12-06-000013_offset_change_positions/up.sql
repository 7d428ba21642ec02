-- The feed orders changes by transaction id, and PostgreSQL's counter belongs to the cluster, not
-- the database: a pg_dump restored into a younger cluster would number new transactions below the
-- restored changes, and readers would wait behind them for ever. A change's position is therefore
-- the cluster's transaction id plus an offset kept here, which `catalyst migrate` (and `serve`)
-- raises past every stored position when it finds one ahead (see persistence's changes.rs).
CREATE TABLE change_position_offset (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    txid_offset BIGINT NOT NULL CHECK (txid_offset >= 0)
);
INSERT INTO change_position_offset (id, txid_offset) VALUES (1, 0);

-- This transaction's place in the feed.
CREATE FUNCTION change_position_txid() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT txid_current() + (SELECT txid_offset FROM change_position_offset WHERE id = 1)
$$;

-- The oldest transaction still running, in the same numbering: every change below it has
-- committed or never will.
CREATE FUNCTION change_position_horizon() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT txid_snapshot_xmin(txid_current_snapshot())
        + (SELECT txid_offset FROM change_position_offset WHERE id = 1)
$$;

ALTER TABLE changes ALTER COLUMN txid SET DEFAULT change_position_txid();
