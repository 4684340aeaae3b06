-- An exclusion constraint and a GiST index of the same name and column.
-- prefix
CREATE TABLE t (r tsrange);
-- a
CREATE INDEX t_r_excl ON t USING gist (r);
-- b
ALTER TABLE t ADD CONSTRAINT t_r_excl EXCLUDE USING gist (r WITH &&);
