-- A comment on a constraint.
-- prefix
CREATE TABLE t (a int CONSTRAINT c CHECK (a > 0));
-- a
-- b
COMMENT ON CONSTRAINT c ON t IS 'positive';
