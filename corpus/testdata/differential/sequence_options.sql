-- A free-standing sequence's options and owner change; a column default uses it.
-- prefix
CREATE TABLE t (id int NOT NULL, n bigint);
-- a
CREATE SEQUENCE s;
ALTER TABLE t ALTER COLUMN n SET DEFAULT nextval('s');
-- b
CREATE SEQUENCE s AS integer INCREMENT BY 5 MINVALUE 1 MAXVALUE 100000 START WITH 10 CACHE 20 CYCLE OWNED BY t.n;
ALTER TABLE t ALTER COLUMN n SET DEFAULT nextval('s');
COMMENT ON SEQUENCE s IS 'numbers';
