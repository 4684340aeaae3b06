CREATE TYPE status AS ENUM ('open', 'paid');
CREATE TABLE invoices (id int PRIMARY KEY, status status NOT NULL DEFAULT 'open', total int NOT NULL);
