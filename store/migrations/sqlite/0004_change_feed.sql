-- changed_at is when an execution row was last written, by the database's
-- own clock (Unix microseconds), so that a change feed in any process can
-- find executions that changed recently even after they ended (a drill's
-- cleanup runs after its execution is over). Triggers keep it, whoever
-- writes the row.
ALTER TABLE executions ADD COLUMN changed_at INTEGER;

CREATE INDEX executions_changed ON executions (changed_at);

CREATE TRIGGER executions_changed_insert AFTER INSERT ON executions
BEGIN
    UPDATE executions SET changed_at = CAST(unixepoch('subsec') * 1000000 AS INTEGER) WHERE id = NEW.id;
END;

-- Every write of an execution increments its version.
CREATE TRIGGER executions_changed_update AFTER UPDATE OF version ON executions
BEGIN
    UPDATE executions SET changed_at = CAST(unixepoch('subsec') * 1000000 AS INTEGER) WHERE id = NEW.id;
END;
