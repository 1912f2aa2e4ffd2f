-- API tokens and the audit log.

-- A token keeps only the SHA-256 of its secret. Revoked tokens stay, as a
-- record, so a name is unique among the active (not revoked) tokens only.
CREATE TABLE api_tokens (
    id           text        COLLATE "C" NOT NULL,
    name         text        NOT NULL,
    name_key     text        COLLATE "C" NOT NULL,
    role         text        NOT NULL,
    hash         text        NOT NULL,                 -- hex SHA-256 of the secret
    created_by   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,                          -- NULL while active
    revoked_by   text        NOT NULL DEFAULT '',
    last_used_at timestamptz,                          -- NULL until first used
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_hash_unique UNIQUE (hash)
);

CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name_key) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_created ON api_tokens (created_at DESC, id DESC);

-- Entries are only ever added; they are read newest first, whole or by
-- principal or target.
CREATE TABLE audit_log (
    id         text        COLLATE "C" NOT NULL,
    at         timestamptz NOT NULL,
    principal  text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    outcome    text        NOT NULL,
    status     integer     NOT NULL,
    message    text        NOT NULL DEFAULT '',
    request_id text        NOT NULL DEFAULT '',
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);

CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_principal ON audit_log (principal, at DESC, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC, id DESC);
