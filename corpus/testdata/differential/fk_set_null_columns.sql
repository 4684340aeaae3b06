-- ON DELETE SET NULL of some of a foreign key's columns.
-- prefix
CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE child (a int, b int);
-- a
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b) ON DELETE SET NULL;
-- b
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b) ON DELETE SET NULL (b);
