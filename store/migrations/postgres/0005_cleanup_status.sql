-- The drill cleanup's status in a column of its own, so that find can list
-- the cleanups in progress (their executions are already over).
ALTER TABLE executions ADD COLUMN cleanup_status text NOT NULL DEFAULT '';
UPDATE executions SET cleanup_status = coalesce(cleanup->>'status', '');
CREATE INDEX executions_cleanup_status ON executions (cleanup_status) WHERE cleanup_status = 'TERMINATING';
