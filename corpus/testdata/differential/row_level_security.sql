-- ROW LEVEL SECURITY is enabled.
-- refused: ROW LEVEL SECURITY is not managed: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE t (a int);
-- a
-- b
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
