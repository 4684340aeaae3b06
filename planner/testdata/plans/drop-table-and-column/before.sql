CREATE TABLE accounts (id int PRIMARY KEY, legacy_code text, email text);
CREATE TABLE audit (at timestamptz);
