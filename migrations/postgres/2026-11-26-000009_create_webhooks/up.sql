-- Webhooks: subscriptions, and deliveries fanned out from the change log (the transactional
-- outbox: a change and the record of it commit together, and a subscription's cursor moves with
-- the deliveries made from it, so nothing is lost or made twice).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    -- `user:<id>` or `client:<id>`: events are what this owner may see.
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    -- Space-separated event types (`awards.created`), or `*` for all.
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- The previous secret, still signing until it expires (rotation).
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP(6),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    -- The change log position up to which deliveries have been made.
    cursor_txid BIGINT NOT NULL,
    cursor_seq BIGINT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner, created_at, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP(6) NOT NULL,
    -- A sender's claim: until then no other replica sends this delivery.
    locked_until TIMESTAMP(6),
    last_attempt_at TIMESTAMP(6),
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP(6) NOT NULL,
    delivered_at TIMESTAMP(6)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at, id);
