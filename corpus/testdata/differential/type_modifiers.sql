-- Type modifiers. Each in a schema of its own: numeric gets a precision and scale (schema numeric_precision); A bit varying column gets shorter (schema varbit_length); timestamptz gets a precision (schema timestamptz_precision); interval gets fields (schema interval_fields).
-- prefix
CREATE SCHEMA numeric_precision;
SET search_path = numeric_precision;
CREATE SCHEMA varbit_length;
SET search_path = varbit_length;
CREATE SCHEMA timestamptz_precision;
SET search_path = timestamptz_precision;
CREATE SCHEMA interval_fields;
SET search_path = interval_fields;
-- a
SET search_path = numeric_precision;
CREATE TABLE t (a numeric);
SET search_path = varbit_length;
CREATE TABLE t (a bit varying(10));
SET search_path = timestamptz_precision;
CREATE TABLE t (a timestamptz);
SET search_path = interval_fields;
CREATE TABLE t (a interval);
-- b
SET search_path = numeric_precision;
CREATE TABLE t (a numeric(10, 2));
SET search_path = varbit_length;
CREATE TABLE t (a bit varying(5));
SET search_path = timestamptz_precision;
CREATE TABLE t (a timestamptz(0));
SET search_path = interval_fields;
CREATE TABLE t (a interval day to second);
