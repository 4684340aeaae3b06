-- An identity column's sequence options.
-- refused: An identity's MINVALUE, MAXVALUE, CACHE and CYCLE are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY);
-- b
CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (MINVALUE 1 MAXVALUE 1000 CACHE 5 CYCLE));
