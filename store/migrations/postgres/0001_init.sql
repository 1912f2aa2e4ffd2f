-- wavedr schema, PostgreSQL.
-- name_key is the lower-cased name (names are unique case-insensitively),
-- compared byte-wise (COLLATE "C"), as are IDs, so lists sort the same on
-- every database whatever its default collation.

CREATE TABLE accounts (
    id          text        NOT NULL,                  -- 12-digit AWS account ID
    name        text        NOT NULL,
    name_key    text        COLLATE "C" NOT NULL,
    role_arn    text        NOT NULL DEFAULT '',
    external_id text        NOT NULL DEFAULT '',
    regions     jsonb       NOT NULL,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_name_key_unique UNIQUE (name_key)
);

CREATE TABLE protection_groups (
    id              text        COLLATE "C" NOT NULL,
    name            text        NOT NULL,
    name_key        text        COLLATE "C" NOT NULL,
    description     text        NOT NULL DEFAULT '',
    account_id      text        REFERENCES accounts (id) ON DELETE RESTRICT,  -- NULL: the local account
    region          text        NOT NULL,
    server_ids      jsonb,
    selector        jsonb,
    launch_settings jsonb,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT protection_groups_pkey PRIMARY KEY (id),
    CONSTRAINT protection_groups_name_key_unique UNIQUE (name_key)
);

CREATE INDEX protection_groups_account ON protection_groups (account_id, region);

CREATE TABLE recovery_plans (
    id          text        COLLATE "C" NOT NULL,
    name        text        NOT NULL,
    name_key    text        COLLATE "C" NOT NULL,
    description text        NOT NULL DEFAULT '',
    waves       jsonb       NOT NULL,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT recovery_plans_pkey PRIMARY KEY (id),
    CONSTRAINT recovery_plans_name_key_unique UNIQUE (name_key)
);

CREATE TABLE plan_groups (
    plan_id  text NOT NULL REFERENCES recovery_plans (id) ON DELETE CASCADE,
    group_id text NOT NULL REFERENCES protection_groups (id) ON DELETE RESTRICT,
    CONSTRAINT plan_groups_pkey PRIMARY KEY (plan_id, group_id)
);

CREATE INDEX plan_groups_group ON plan_groups (group_id);

-- Executions outlive their plans (history), so plan_id is not a foreign key.
CREATE TABLE executions (
    id             text        COLLATE "C" NOT NULL,
    plan_id        text        NOT NULL,
    plan_name      text        NOT NULL,
    plan_version   bigint      NOT NULL,
    mode           text        NOT NULL,
    status         text        NOT NULL,
    initiated_by   text        NOT NULL,
    reason         text        NOT NULL DEFAULT '',
    pause          jsonb,
    requests       jsonb       NOT NULL,
    cleanup        jsonb       NOT NULL,
    counts         jsonb       NOT NULL,
    waves_total    integer     NOT NULL,
    waves_done     integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    started_at     timestamptz,
    ended_at       timestamptz,
    last_polled_at timestamptz,
    version        bigint      NOT NULL,
    CONSTRAINT executions_pkey PRIMARY KEY (id)
);

CREATE INDEX executions_created ON executions (created_at DESC, id DESC);
CREATE INDEX executions_plan ON executions (plan_id, created_at DESC, id DESC);
CREATE INDEX executions_status ON executions (status, created_at DESC, id DESC);

CREATE TABLE execution_waves (
    execution_id text    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    wave_name    text    NOT NULL,
    wave_number  integer NOT NULL,
    status       text    NOT NULL,
    data         jsonb   NOT NULL,
    CONSTRAINT execution_waves_pkey PRIMARY KEY (execution_id, wave_name)
);

CREATE TABLE execution_servers (
    execution_id     text    NOT NULL,
    wave_name        text    NOT NULL,
    source_server_id text    NOT NULL,
    position         integer NOT NULL,
    status           text    NOT NULL,
    data             jsonb   NOT NULL,
    CONSTRAINT execution_servers_pkey PRIMARY KEY (execution_id, wave_name, source_server_id),
    FOREIGN KEY (execution_id, wave_name) REFERENCES execution_waves (execution_id, wave_name) ON DELETE CASCADE
);

CREATE TABLE execution_claims (
    source_server_id text        NOT NULL,
    execution_id     text        NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    claimed_at       timestamptz NOT NULL,
    CONSTRAINT execution_claims_pkey PRIMARY KEY (source_server_id)
);

CREATE INDEX execution_claims_execution ON execution_claims (execution_id);
