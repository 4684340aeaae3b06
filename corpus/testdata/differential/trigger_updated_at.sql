-- The updated_at trigger: a function and a trigger per table; a second trigger disabled, with a WHEN and UPDATE OF.
-- prefix
CREATE TABLE t (id int PRIMARY KEY, a int, updated_at timestamptz);
-- a
-- b
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER t_a AFTER UPDATE OF a ON t FOR EACH ROW WHEN (OLD.a IS DISTINCT FROM NEW.a) EXECUTE FUNCTION touch();
ALTER TABLE t DISABLE TRIGGER t_a;
COMMENT ON TRIGGER t_touch ON t IS 'keeps updated_at';
