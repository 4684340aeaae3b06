-- Row-level security with policies for a role, forced; a policy's expression changes.
-- prefix
DO $$BEGIN CREATE ROLE keel_diff_tenant; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, body text);
-- a
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON docs FOR SELECT TO keel_diff_tenant USING (owner = current_user);
-- b
ALTER TABLE docs ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON docs AS RESTRICTIVE FOR ALL TO keel_diff_tenant, PUBLIC USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY admins ON docs FOR DELETE TO PUBLIC USING (false);
COMMENT ON POLICY own ON docs IS 'tenants see theirs';
