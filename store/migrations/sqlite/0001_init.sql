-- wavedr schema, SQLite.
-- Times are INTEGER Unix microseconds (NULL when unset); JSON documents are TEXT.
-- name_key is the lower-cased name: names are unique case-insensitively.

CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,          -- 12-digit AWS account ID
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    role_arn    TEXT    NOT NULL DEFAULT '',
    external_id TEXT    NOT NULL DEFAULT '',
    regions     TEXT    NOT NULL,                      -- JSON array
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE protection_groups (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    name_key        TEXT    NOT NULL UNIQUE,
    description     TEXT    NOT NULL DEFAULT '',
    account_id      TEXT    REFERENCES accounts (id) ON DELETE RESTRICT,  -- NULL: the local account
    region          TEXT    NOT NULL,
    server_ids      TEXT,                              -- JSON array, or NULL with a selector
    selector        TEXT,                              -- JSON, or NULL
    launch_settings TEXT,                              -- JSON, or NULL
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX protection_groups_account ON protection_groups (account_id, region);

CREATE TABLE recovery_plans (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    waves       TEXT    NOT NULL,                      -- JSON array of waves
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The groups each plan refers to (by name in its waves), kept with the plan
-- so a group in use cannot be deleted or renamed.
CREATE TABLE plan_groups (
    plan_id  TEXT NOT NULL REFERENCES recovery_plans (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES protection_groups (id) ON DELETE RESTRICT,
    PRIMARY KEY (plan_id, group_id)
) STRICT;

CREATE INDEX plan_groups_group ON plan_groups (group_id);

-- Executions outlive their plans (history), so plan_id is not a foreign key.
CREATE TABLE executions (
    id             TEXT    NOT NULL PRIMARY KEY,
    plan_id        TEXT    NOT NULL,
    plan_name      TEXT    NOT NULL,
    plan_version   INTEGER NOT NULL,
    mode           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    initiated_by   TEXT    NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    pause          TEXT,                               -- JSON, NULL unless paused
    requests       TEXT    NOT NULL,                   -- JSON: pending pause/resume/cancel requests
    cleanup        TEXT    NOT NULL,                   -- JSON
    counts         TEXT    NOT NULL,                   -- JSON: servers by status (summary)
    waves_total    INTEGER NOT NULL,
    waves_done     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    ended_at       INTEGER,
    last_polled_at INTEGER,
    version        INTEGER NOT NULL
) STRICT;

CREATE INDEX executions_created ON executions (created_at DESC, id DESC);
CREATE INDEX executions_plan ON executions (plan_id, created_at DESC, id DESC);
CREATE INDEX executions_status ON executions (status, created_at DESC, id DESC);

CREATE TABLE execution_waves (
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    wave_name    TEXT    NOT NULL,
    wave_number  INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    data         TEXT    NOT NULL,                     -- JSON: the wave run without its servers
    PRIMARY KEY (execution_id, wave_name)
) STRICT;

CREATE TABLE execution_servers (
    execution_id     TEXT    NOT NULL,
    wave_name        TEXT    NOT NULL,
    source_server_id TEXT    NOT NULL,
    position         INTEGER NOT NULL,                 -- order within the wave
    status           TEXT    NOT NULL,
    data             TEXT    NOT NULL,                 -- JSON: the server run
    PRIMARY KEY (execution_id, wave_name, source_server_id),
    FOREIGN KEY (execution_id, wave_name) REFERENCES execution_waves (execution_id, wave_name) ON DELETE CASCADE
) STRICT;

-- A source server is recovered by at most one active execution at a time.
CREATE TABLE execution_claims (
    source_server_id TEXT    NOT NULL PRIMARY KEY,
    execution_id     TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    claimed_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX execution_claims_execution ON execution_claims (execution_id);
