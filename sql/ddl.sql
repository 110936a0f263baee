-- DDL on distributed and reference tables (src/pg/commands/ddl_propagation.cpp).
-- Effects on the shards are shown through the router: a query on the table
-- runs on its shards, so a column, index or constraint missing there shows.
CREATE EXTENSION phantomdb;
SET client_min_messages TO warning;
SELECT phantom_add_node('127.0.0.1', 25432) IS NOT NULL AS added;
SELECT phantom_add_node('127.0.0.1', 25433) IS NOT NULL AS added;
RESET client_min_messages;

CREATE TABLE items (id bigint NOT NULL, name text);
SELECT phantom_create_distributed_table('items', 'id', 4);
CREATE TABLE colors (code text PRIMARY KEY, label text);
SELECT phantom_create_reference_table('colors');
INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO colors VALUES ('r', 'red'), ('g', 'green');

-- ADD COLUMN: existing shard rows get the default, new rows use the column.
ALTER TABLE items ADD COLUMN price numeric DEFAULT 10 NOT NULL;
ALTER TABLE items ADD COLUMN note text;
INSERT INTO items (id, name, note) VALUES (4, 'four', 'new');
SELECT id, name, price, note FROM items WHERE id = 1;
SELECT id, name, price, note FROM items WHERE id = 4;
ALTER TABLE colors ADD COLUMN hex text;
UPDATE colors SET hex = '#ff0000' WHERE code = 'r';
SELECT * FROM colors ORDER BY code;
ALTER TABLE items ADD COLUMN IF NOT EXISTS note text;

-- SET/DROP DEFAULT: the coordinator fills in defaults.
ALTER TABLE items ALTER COLUMN note SET DEFAULT 'default note';
INSERT INTO items (id, name) VALUES (5, 'five');
SELECT id, note FROM items WHERE id = 5;
ALTER TABLE items ALTER COLUMN note DROP DEFAULT;

-- SET/DROP NOT NULL reaches the shards.
ALTER TABLE items ALTER COLUMN name SET NOT NULL;
INSERT INTO items (id, name) VALUES (6, NULL);
ALTER TABLE items ALTER COLUMN name DROP NOT NULL;
INSERT INTO items (id, name) VALUES (6, NULL);

-- RENAME COLUMN, also of the distribution column.
ALTER TABLE items RENAME COLUMN note TO remark;
SELECT id, remark FROM items WHERE id = 4;
ALTER TABLE items RENAME COLUMN id TO item_id;
SELECT item_id, name FROM items WHERE item_id = 2;
SELECT "table", distribution_column FROM phantom_tables ORDER BY "table"::text;
ALTER TABLE items RENAME COLUMN item_id TO id;

-- DROP COLUMN.
ALTER TABLE items DROP COLUMN remark;
SELECT * FROM items WHERE id = 4;
ALTER TABLE colors DROP COLUMN hex;

-- ALTER COLUMN TYPE.
ALTER TABLE items ALTER COLUMN price TYPE numeric(10,2);
SELECT id, price FROM items WHERE id = 1;

-- CREATE INDEX, UNIQUE INDEX (with the distribution column), expression and
-- partial indexes, IF NOT EXISTS; a duplicate then fails on the shard.
CREATE INDEX items_name_idx ON items (name);
CREATE INDEX IF NOT EXISTS items_name_idx ON items (name);
CREATE UNIQUE INDEX items_id_name_key ON items (id, name);
CREATE INDEX ON items (lower(name)) WHERE price > 0;
INSERT INTO items (id, name) VALUES (1, 'one');
CREATE UNIQUE INDEX colors_label_key ON colors (label);
INSERT INTO colors VALUES ('x', 'red');
CREATE INDEX CONCURRENTLY items_price_idx ON items (price);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'items'::regclass ORDER BY "table"::text;

-- DROP INDEX drops the shards' copies: the duplicate is accepted again.
DROP INDEX items_id_name_key;
INSERT INTO items (id, name) VALUES (1, 'one');
DELETE FROM items WHERE id = 1;
INSERT INTO items (id, name) VALUES (1, 'one');
DROP INDEX colors_label_key, items_price_idx;

-- ADD/DROP CONSTRAINT.
ALTER TABLE items ADD CONSTRAINT price_positive CHECK (price >= 0);
INSERT INTO items (id, name, price) VALUES (7, 'seven', -1);
ALTER TABLE items DROP CONSTRAINT price_positive;
INSERT INTO items (id, name, price) VALUES (7, 'seven', -1);
ALTER TABLE colors ADD CONSTRAINT colors_label_unique UNIQUE (label);
INSERT INTO colors VALUES ('y', 'green');
ALTER TABLE colors DROP CONSTRAINT colors_label_unique;
INSERT INTO colors VALUES ('y', 'green');

-- Refused, and nothing changes.
CREATE UNIQUE INDEX items_name_key ON items (name);
ALTER TABLE items ADD CONSTRAINT items_name_key UNIQUE (name);
ALTER TABLE items ADD PRIMARY KEY (name);
ALTER TABLE items ADD CONSTRAINT items_color_fk FOREIGN KEY (name) REFERENCES colors (code);
ALTER TABLE items DROP COLUMN id;
ALTER TABLE items ALTER COLUMN id TYPE integer;
ALTER TABLE items ALTER COLUMN price TYPE integer USING price::integer;
ALTER TABLE items ADD COLUMN created timestamptz DEFAULT clock_timestamp();
ALTER TABLE items ADD COLUMN seq serial;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items SET (fillfactor = 50), ADD COLUMN extra int;
ALTER TABLE items CLUSTER ON items_name_idx;
SELECT attname FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT * FROM items WHERE id = 2;

-- GRANT and REVOKE, table- and column-level.
-- (roles must exist on every node: PUBLIC does.)
GRANT SELECT ON items TO PUBLIC;
GRANT UPDATE (label) ON colors TO PUBLIC;
SELECT relname, relacl FROM pg_class WHERE relname IN ('items', 'colors') ORDER BY 1;
REVOKE SELECT ON items FROM PUBLIC;
REVOKE UPDATE (label) ON colors FROM PUBLIC;
SELECT relname, relacl FROM pg_class WHERE relname IN ('items', 'colors') ORDER BY 1;

-- TRUNCATE, several tables at once.
TRUNCATE items, colors RESTART IDENTITY;
SELECT count(*) FROM items WHERE id = 2;
SELECT count(*) FROM colors;
INSERT INTO items (id, name) VALUES (1, 'one');
INSERT INTO items (id, name) VALUES (2, 'two');

-- RENAME TO and SET SCHEMA: the router finds the renamed shards.
ALTER TABLE items RENAME TO goods;
SELECT id, name FROM goods WHERE id = 2;
-- SET SCHEMA needs the schema on every node (CREATE SCHEMA is not propagated).
CREATE SCHEMA store;
ALTER TABLE goods SET SCHEMA store;
SELECT "table", distribution_column FROM phantom_tables ORDER BY "table"::text;
DROP SCHEMA store;

-- phantom_undistribute_table brings the rows home.
SELECT phantom_undistribute_table('goods');
SELECT id, name FROM goods ORDER BY id;
SELECT count(*) FROM phantom_tables WHERE "table"::text = 'goods';
DROP TABLE goods;

-- DROP TABLE, mixed with a local table, IF EXISTS and CASCADE.
CREATE TABLE plain (a int);
CREATE TABLE events (id int, kind text);
SELECT phantom_create_distributed_table('events', 'id', 2);
CREATE VIEW colors_view AS SELECT code FROM colors;
DROP TABLE IF EXISTS plain, events, no_such_table;
DROP TABLE colors CASCADE;
SELECT count(*) FROM phantom_tables;

SET client_min_messages TO warning;
SELECT phantom_remove_node('127.0.0.1:25432');
SELECT phantom_remove_node('127.0.0.1:25433');
DROP EXTENSION phantomdb;
