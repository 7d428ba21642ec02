-- Contacts: a name, a role and an email at an organisation; nothing more personal.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT,
    email TEXT,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX contacts_organisation ON contacts (organisation_id, id);
CREATE INDEX contacts_created_at_id ON contacts (created_at, id);
CREATE INDEX contacts_updated_at_id ON contacts (updated_at, id);
