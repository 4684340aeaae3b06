-- ON DELETE SET NULL of some of a foreign key's columns.
-- refused: ON DELETE SET NULL (columns) is not modelled: a difference keel cannot plan.
-- refused reverse: As A to B.
-- prefix
CREATE TABLE parent (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE child (a int, b int);
-- a
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b) ON DELETE SET NULL;
-- b
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (a, b) REFERENCES parent (a, b) ON DELETE SET NULL (b);
