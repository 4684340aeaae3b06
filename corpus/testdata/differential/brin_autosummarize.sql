-- A BRIN index with autosummarize on.
-- refused: The engine's inspection cannot read autosummarize = on (strconv.ParseBool: "on"): the plan fails, naming the index parameter.
-- refused reverse: As A to B: the inspection of the database fails on autosummarize = on.
-- prefix
CREATE TABLE t (a int);
-- a
CREATE INDEX i ON t USING brin (a);
-- b
CREATE INDEX i ON t USING brin (a) WITH (autosummarize = on);
