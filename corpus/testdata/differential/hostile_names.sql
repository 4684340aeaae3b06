-- Names with a double quote, a semicolon and a comment marker through the catalog-planned paths: settings, constraints, indexes, partitions, comments.
-- prefix
CREATE TABLE "we""ird;--" (id int NOT NULL, "c""ol" text, CONSTRAINT "p""k" PRIMARY KEY (id));
CREATE TABLE "ev""s" (at date NOT NULL) PARTITION BY RANGE (at);
-- a
-- b
ALTER TABLE "we""ird;--" SET (fillfactor = 70), SET UNLOGGED;
ALTER TABLE "we""ird;--" ALTER COLUMN "c""ol" SET STORAGE EXTERNAL, ALTER COLUMN "c""ol" SET STATISTICS 300;
ALTER TABLE "we""ird;--" ADD CONSTRAINT "ch""k;--" CHECK (true) NOT VALID;
COMMENT ON CONSTRAINT "p""k" ON "we""ird;--" IS 'it''s;--';
CREATE INDEX "i""x" ON "we""ird;--" ("c""ol") WITH (fillfactor = 50);
CREATE TABLE "ev""s_1;--" PARTITION OF "ev""s" FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
COMMENT ON TABLE "ev""s_1;--" IS 'p''s';
