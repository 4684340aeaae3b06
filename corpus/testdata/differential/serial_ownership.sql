-- A serial column against an integer column with a free-standing sequence.
-- refused: Which column owns a sequence (serial, OWNED BY) is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (id serial);
-- b
CREATE SEQUENCE t_id_seq;
CREATE TABLE t (id int NOT NULL DEFAULT nextval('t_id_seq'));
