-- An exclusion constraint is added.
-- prefix
CREATE TABLE t (r tsrange);
-- a
-- b
ALTER TABLE t ADD CONSTRAINT t_r_excl EXCLUDE USING gist (r WITH &&);
