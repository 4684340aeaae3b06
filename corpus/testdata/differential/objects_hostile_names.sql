-- Names with a double quote, a semicolon and a comment marker for views, functions, triggers, policies and sequences.
-- prefix
CREATE TABLE "we""ird;--" (id int PRIMARY KEY, "c""ol" text);
-- a
-- b
CREATE VIEW "v""iew;--" AS SELECT id, "c""ol" FROM "we""ird;--";
CREATE FUNCTION "f""n;--"() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER "t""rg;--" BEFORE INSERT ON "we""ird;--" FOR EACH ROW EXECUTE FUNCTION "f""n;--"();
CREATE POLICY "p""ol;--" ON "we""ird;--" USING (true);
CREATE SEQUENCE "s""eq;--";
COMMENT ON VIEW "v""iew;--" IS 'it''s;--';
