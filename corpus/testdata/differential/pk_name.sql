-- A primary key's name.
-- a
CREATE TABLE t (id int, CONSTRAINT t_pkey PRIMARY KEY (id));
-- b
CREATE TABLE t (id int, CONSTRAINT t_pk PRIMARY KEY (id));
