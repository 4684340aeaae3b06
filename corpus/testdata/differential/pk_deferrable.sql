-- A primary key becomes DEFERRABLE INITIALLY DEFERRED.
-- refused: DEFERRABLE primary keys are not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (id int PRIMARY KEY);
-- b
CREATE TABLE t (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED);
