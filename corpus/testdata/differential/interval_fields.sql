-- interval gets fields.
-- a
CREATE TABLE t (a interval);
-- b
CREATE TABLE t (a interval day to second);
