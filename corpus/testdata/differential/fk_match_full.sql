-- A two-column foreign key becomes MATCH FULL.
-- prefix
CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE child (a int, b int);
-- a
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b);
-- b
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL;
