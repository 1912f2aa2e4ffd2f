-- API tokens and the audit log.

-- A token keeps only the SHA-256 of its secret. Revoked tokens stay, as a
-- record, so a name is unique among the active (not revoked) tokens only.
CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,              -- hex SHA-256 of the secret
    created_by   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,                              -- NULL while active
    revoked_by   TEXT    NOT NULL DEFAULT '',
    last_used_at INTEGER                               -- NULL until first used
) STRICT;

CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name_key) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_created ON api_tokens (created_at DESC, id DESC);

-- Entries are only ever added; they are read newest first, whole or by
-- principal or target.
CREATE TABLE audit_log (
    id         TEXT    NOT NULL PRIMARY KEY,
    at         INTEGER NOT NULL,
    principal  TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    outcome    TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    message    TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_principal ON audit_log (principal, at DESC, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC, id DESC);
