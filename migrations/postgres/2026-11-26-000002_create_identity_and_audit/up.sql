-- People, their memberships of organisations, API clients, refresh tokens, sign-in throttling and
-- the audit trail.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'programme_manager', 'authority_officer', 'supplier')),
    password_hash TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_created_at_id ON users (created_at, id);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX memberships_organisation_id ON memberships (organisation_id);

-- Scopes and organisation restrictions are space-separated, as OAuth 2.0 spells scopes.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    organisation_ids TEXT,
    created_by TEXT NOT NULL,
    revoked_at TIMESTAMP(6),
    last_used_at TIMESTAMP(6),
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX api_clients_created_at_id ON api_clients (created_at, id);

-- Refresh tokens rotate on use; a family is every token descended from one sign-in, revoked
-- together when a used token comes back (a sign of theft).
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP(6) NOT NULL,
    used_at TIMESTAMP(6),
    revoked_at TIMESTAMP(6),
    created_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

-- Failed sign-ins per account and per address, shared by every replica.
CREATE TABLE auth_throttle (
    throttle_key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_started_at TIMESTAMP(6) NOT NULL,
    blocked_until TIMESTAMP(6)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP(6) NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    entity_version BIGINT,
    before_state TEXT,
    after_state TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, occurred_at, id);
CREATE INDEX audit_log_occurred_at_id ON audit_log (occurred_at, id);
