-- A comment on a constraint.
-- refused: Comments on constraints are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int CONSTRAINT c CHECK (a > 0));
-- a
-- b
COMMENT ON CONSTRAINT c ON t IS 'positive';
