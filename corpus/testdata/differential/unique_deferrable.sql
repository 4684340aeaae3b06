-- A unique constraint becomes DEFERRABLE.
-- refused: DEFERRABLE unique constraints are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);
-- b
ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE;
