-- A serial column against an integer column with a free-standing sequence.
-- a
CREATE TABLE t (id serial);
-- b
CREATE SEQUENCE t_id_seq;
CREATE TABLE t (id int NOT NULL DEFAULT nextval('t_id_seq'));
