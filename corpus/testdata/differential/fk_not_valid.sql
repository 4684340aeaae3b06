-- A foreign key becomes NOT VALID.
-- prefix
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (pid int);
-- a
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id);
-- b
ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID;
