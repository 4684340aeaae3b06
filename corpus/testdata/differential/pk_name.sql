-- A primary key's name.
-- refused: The engine does not plan a primary key's rename; the catalog shows the constraint and its index under another name: differences keel cannot plan.
-- refused reverse: As A to B.
-- a
CREATE TABLE t (id int, CONSTRAINT t_pkey PRIMARY KEY (id));
-- b
CREATE TABLE t (id int, CONSTRAINT t_pk PRIMARY KEY (id));
