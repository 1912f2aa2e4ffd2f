-- changed_at is when an execution row was last written, by the database's
-- own clock, so that a change feed in any replica can find executions that
-- changed recently even after they ended (a drill's cleanup runs after its
-- execution is over). A trigger keeps it, whoever writes the row.
ALTER TABLE executions ADD COLUMN changed_at timestamptz;

CREATE INDEX executions_changed ON executions (changed_at);

CREATE FUNCTION wavedr_execution_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- clock_timestamp: the time of the write, not of the transaction's start.
    NEW.changed_at := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TRIGGER executions_changed BEFORE INSERT OR UPDATE ON executions
    FOR EACH ROW EXECUTE FUNCTION wavedr_execution_changed();
