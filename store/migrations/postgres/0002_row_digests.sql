-- A digest of each wave and server row as last written, so an update
-- rewrites only the rows that changed (a poll of a 100-server wave usually
-- changes a few).
ALTER TABLE execution_waves ADD COLUMN digest text NOT NULL DEFAULT '';
ALTER TABLE execution_servers ADD COLUMN digest text NOT NULL DEFAULT '';
