-- Distributing tables on the test fixture (docs/testing.md): this server is
-- 127.0.0.1:25431; 25432 and 25433 run PhantomDB.
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');

-- Rows compared across a distributed table and a local copy of it, one key
-- at a time through the router: the number of keys whose rows differ.
CREATE FUNCTION differing_keys(dist regclass, local regclass, keycol text, keys bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  k bigint;
  a text;
  b text;
  differing bigint := 0;
BEGIN
  FOREACH k IN ARRAY keys LOOP
    EXECUTE format('SELECT string_agg(t::text, '';'' ORDER BY t::text) FROM %s t WHERE %I = $1', dist, keycol)
      INTO a USING k;
    EXECUTE format('SELECT string_agg(t::text, '';'' ORDER BY t::text) FROM %s t WHERE %I = $1', local, keycol)
      INTO b USING k;
    IF a IS DISTINCT FROM b THEN differing := differing + 1; END IF;
  END LOOP;
  RETURN differing;
END $$;

-- Existing rows move into the shards; the local table is left empty.
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(10, 2),
                     placed date DEFAULT '2026-01-01', CHECK (amount >= 0));
INSERT INTO orders SELECT g, 'c' || (g % 17), g * 1.5, date '2026-01-01' + (g % 30) FROM generate_series(1, 500) g;
CREATE TABLE orders_local AS SELECT * FROM orders;
SELECT phantom_create_distributed_table('orders', 'order_id', 8);
SELECT pg_relation_size('orders') AS shell_bytes;
SELECT differing_keys('orders', 'orders_local', 'order_id', ARRAY(SELECT generate_series(0, 510)::bigint));
SELECT "table", method, distribution_column, shard_count, colocation_id, replication_factor, size > 0 AS has_size
  FROM phantom_tables;
SELECT shard_id, "table", hash_min, hash_max, node, placement_state, size > 0 AS has_size FROM phantom_shards;
-- The shard for a value: the same in every session and on every node.
SELECT phantom_shard_for_value('orders', 1), phantom_shard_for_value('orders', 1::smallint),
       phantom_shard_for_value('orders', '1'), phantom_shard_for_value('orders', NULL::bigint);
SELECT phantomdb.distribution_hash(1::bigint), phantomdb.distribution_hash(1::int),
       phantomdb.distribution_hash('hello'::text), phantomdb.distribution_hash('hello'::varchar),
       phantomdb.distribution_hash('hello '::char(8)), phantomdb.distribution_hash(1.50::numeric),
       phantomdb.distribution_hash(1.5::numeric);

-- Refused, changing nothing: the table must be distributable...
SELECT phantom_create_distributed_table('orders', 'order_id');
SELECT phantom_create_distributed_table('orders_local', 'nosuch');
SELECT phantom_create_distributed_table('nosuch', 'order_id');
SELECT phantom_create_distributed_table(NULL, 'order_id');
SELECT phantom_create_distributed_table('orders_local', NULL);
CREATE TABLE floats (f float8 PRIMARY KEY);
SELECT phantom_create_distributed_table('floats', 'f');
CREATE TABLE docs (id int, body jsonb);
SELECT phantom_create_distributed_table('docs', 'body');
CREATE TABLE keyed (id int PRIMARY KEY, tenant int, email text UNIQUE);
SELECT phantom_create_distributed_table('keyed', 'tenant');
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int, parent_id int REFERENCES parent);
SELECT phantom_create_distributed_table('child', 'id');
SELECT phantom_create_distributed_table('parent', 'id');
CREATE TEMP TABLE scratch (id int);
SELECT phantom_create_distributed_table('scratch', 'id');
CREATE TABLE guarded (id int PRIMARY KEY, owner text);
ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
SELECT phantom_create_distributed_table('guarded', 'id');
SELECT phantom_create_reference_table('guarded');
DROP TABLE guarded;
CREATE TABLE measurements (id int, at date) PARTITION BY RANGE (at);
SELECT phantom_create_distributed_table('measurements', 'id');
CREATE VIEW order_view AS SELECT * FROM orders_local;
SELECT phantom_create_distributed_table('order_view', 'order_id');
-- ... with valid settings ...
SELECT phantom_create_distributed_table('orders_local', 'order_id', 0);
SELECT phantom_create_distributed_table('orders_local', 'order_id', 5000);
SELECT phantom_create_distributed_table('orders_local', 'order_id', replication_factor => 0);
SELECT phantom_create_distributed_table('orders_local', 'order_id', replication_factor => 4);
SELECT phantom_create_distributed_table('orders_local', 'order_id', colocate_with => 'nosuch');
SELECT phantom_create_distributed_table('orders_local', 'order_id', colocate_with => 'docs');
SELECT phantom_create_distributed_table('orders_local', 'order_id', 16, colocate_with => 'orders');
SELECT phantom_create_distributed_table('docs', 'id', 8, colocate_with => 'orders');
-- ... by its owner.
CREATE ROLE phantom_tenant;
GRANT phantom_admin TO phantom_tenant;
SET ROLE phantom_tenant;
SELECT phantom_create_distributed_table('orders_local', 'order_id');
RESET ROLE;
SELECT count(*) AS tables FROM phantom_tables;
SELECT count(*) AS rows_still_local FROM orders_local;

-- Colocation: the default joins the group of the same shard count and type.
CREATE TABLE order_lines (order_id bigint, line int, item text, PRIMARY KEY (order_id, line));
INSERT INTO order_lines SELECT g, l, 'item' || l FROM generate_series(1, 50) g, generate_series(1, 3) l;
SELECT phantom_create_distributed_table('order_lines', 'order_id', 8);
CREATE TABLE events (id bigint PRIMARY KEY, kind text);
SELECT phantom_create_distributed_table('events', 'id', 8, colocate_with => 'none');
CREATE TABLE events_detail (id bigint PRIMARY KEY, detail text);
SELECT phantom_create_distributed_table('events_detail', 'id', 8, colocate_with => 'events');
SELECT "table", shard_count, colocation_id FROM phantom_tables ORDER BY "table"::text;
-- Colocated tables place shard i on the same node.
SELECT count(*) AS misplaced FROM phantom_shards a JOIN phantom_shards b
    ON a."table" = 'orders'::regclass AND b."table" = 'order_lines'::regclass
   AND a.hash_min = b.hash_min AND a.node <> b.node;

-- Every common distribution type; rows land where phantom_shard_for_value says.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE typed (k_int2 int2, k_int4 int4, k_int8 int8, k_text text, k_varchar varchar(20), k_char char(6),
                    k_uuid uuid, k_numeric numeric, k_date date, k_ts timestamp, k_tstz timestamptz,
                    k_bytea bytea, k_bool boolean, k_mood mood);
INSERT INTO typed SELECT g, g, g, 't' || g, 'v' || g, 'c' || g,
       ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, g / 4.0, date '2026-01-01' + g,
       timestamp '2026-01-01 00:00' + g * interval '1 hour', timestamptz '2026-01-01 00:00+00' + g * interval '1 hour',
       decode(lpad(to_hex(g), 4, '0'), 'hex'), g % 2 = 0, (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood
  FROM generate_series(1, 40) g;
DO $$
DECLARE
  col text;
BEGIN
  FOREACH col IN ARRAY ARRAY['k_int2', 'k_int4', 'k_int8', 'k_text', 'k_varchar', 'k_char', 'k_uuid', 'k_numeric',
                             'k_date', 'k_ts', 'k_tstz', 'k_bytea', 'k_bool', 'k_mood'] LOOP
    EXECUTE format('CREATE TABLE %I AS SELECT * FROM typed', 'by_' || col);
    EXECUTE format('SELECT phantom_create_distributed_table(%L, %L, 4)', 'by_' || col, col);
  END LOOP;
END $$;
SELECT "table", shard_count FROM phantom_tables WHERE "table"::text LIKE 'by\_%' ORDER BY "table"::text;
-- Each table answers a point query on its key with the row of the local copy.
SELECT k_int2, k_text FROM by_k_int2 WHERE k_int2 = 7;
SELECT k_int4, k_text FROM by_k_int4 WHERE k_int4 = 7;
SELECT k_int8, k_text FROM by_k_int8 WHERE k_int8 = 7;
SELECT k_varchar FROM by_k_varchar WHERE k_varchar = 'v7';
SELECT k_text, k_numeric FROM by_k_text WHERE k_text = 't7';
SELECT k_char FROM by_k_char WHERE k_char = 'c7';
SELECT k_uuid FROM by_k_uuid WHERE k_uuid = '00000000-0000-0000-0000-000000000007';
SELECT k_numeric FROM by_k_numeric WHERE k_numeric = 1.750;
SELECT k_date FROM by_k_date WHERE k_date = '2026-01-08';
SELECT k_ts FROM by_k_ts WHERE k_ts = '2026-01-01 07:00';
SELECT k_tstz FROM by_k_tstz WHERE k_tstz = '2026-01-01 07:00+00';
SELECT k_bytea FROM by_k_bytea WHERE k_bytea = '\x0007';
SELECT count(*) FROM by_k_bool WHERE k_bool = true;
SELECT count(*) FROM by_k_mood WHERE k_mood = 'happy';
SELECT k_int4 FROM by_k_mood WHERE k_mood = 'happy' AND k_int4 = 2;

-- Reference tables: a full copy on every node.
CREATE TABLE customers (name text PRIMARY KEY, tier int);
INSERT INTO customers SELECT 'c' || g, g % 3 FROM generate_series(0, 16) g;
SELECT phantom_create_reference_table('customers');
SELECT "table", method, distribution_column, shard_count, colocation_id FROM phantom_tables
 WHERE method = 'reference';
SELECT node, placement_state FROM phantom_shards WHERE "table" = 'customers'::regclass;
SELECT count(*) FROM customers;
SELECT phantom_create_reference_table('customers');
SELECT phantom_create_reference_table('child');

-- A node holding shards cannot be removed.
SELECT phantom_remove_node('node2');
SELECT count(*) AS nodes FROM phantom_nodes;
DROP FUNCTION differing_keys(regclass, regclass, text, bigint[]);
-- Leave the peers as they were: dropping distributed tables drops their
-- shards, and nodes without placements can be removed.
DROP TABLE orders, order_lines, events, events_detail, customers, typed, by_k_int2, by_k_int4, by_k_int8, by_k_text,
  by_k_varchar, by_k_char, by_k_uuid, by_k_numeric, by_k_date, by_k_ts, by_k_tstz, by_k_bytea, by_k_bool, by_k_mood;
DROP TABLE orders_local, floats, docs, keyed, child, parent, measurements CASCADE;
DROP TYPE mood;
SELECT count(*) AS tables_left FROM phantom_tables;
SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
DROP ROLE phantom_tenant;
DROP EXTENSION phantomdb;
