-- Storage parameters of the indexes of a primary key and a unique constraint, on an existing table and a new one.
-- prefix
CREATE TABLE t (a int, b int, CONSTRAINT t_a_key UNIQUE (a));
-- a
-- b
ALTER INDEX t_a_key SET (fillfactor = 60);
ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b) WITH (fillfactor = 70, deduplicate_items = off);
CREATE TABLE n (id int, CONSTRAINT n_pkey PRIMARY KEY (id) WITH (fillfactor = 80));
