-- The pushdown planner (docs/query-processing.md): multi-shard SELECTs whose
-- FROM clause each shard group computes on its own run there, and only the
-- combining step runs here. EXPLAIN shows which strategy a query takes and
-- the SQL of one shard's fragment; every query's result is compared with
-- the same query on local copies of the tables (same_rows).
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');

CREATE SCHEMA dist;
CREATE SCHEMA loc;
CREATE TABLE dist.orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(10, 2), placed date,
                          note text, small int2, ratio float8, waited interval, paid bool);
INSERT INTO dist.orders
  SELECT g, g % 37, (g * 7 % 1000) / 10.0, date '2026-01-01' + g % 90,
         CASE WHEN g % 11 = 0 THEN NULL ELSE 'n' || g END, (g % 200 - 100)::int2,
         (g % 13) / 4.0, make_interval(mins => g % 50), g % 5 <> 0
    FROM generate_series(1, 3000) g;
CREATE TABLE dist.lines (order_id bigint, line int, qty int, PRIMARY KEY (order_id, line));
INSERT INTO dist.lines SELECT g, l, (g + l) % 5 FROM generate_series(1, 3000, 3) g, generate_series(1, 3) l;
CREATE TABLE dist.regions (name text PRIMARY KEY, manager text);
INSERT INTO dist.regions VALUES ('north', 'ann'), ('south', 'bob'), ('east', 'cy');
CREATE TABLE dist.empty (id bigint PRIMARY KEY, v int);
CREATE TABLE loc.orders AS SELECT * FROM dist.orders;
CREATE TABLE loc.lines AS SELECT * FROM dist.lines;
CREATE TABLE loc.regions AS SELECT * FROM dist.regions;
CREATE TABLE loc.empty AS SELECT * FROM dist.empty;
SELECT phantom_create_distributed_table('dist.orders', 'id', 8);
SELECT phantom_create_distributed_table('dist.lines', 'order_id', 8, colocate_with => 'dist.orders');
SELECT phantom_create_reference_table('dist.regions');
SELECT phantom_create_distributed_table('dist.empty', 'id', 8, colocate_with => 'dist.orders');
\i sql/include/same_rows.sql

-- Grouped by the distribution column: the whole query runs per shard, and
-- ORDER BY ... LIMIT runs there as a top-N before the merge here.
EXPLAIN (COSTS OFF)
  SELECT o.id, sum(l.qty) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id GROUP BY o.id ORDER BY 2 DESC, 1 LIMIT 5;
SELECT same_rows('SELECT o.id, sum(l.qty) FROM orders o JOIN lines l ON l.order_id = o.id GROUP BY o.id ORDER BY 2 DESC, 1 LIMIT 5');
SELECT same_rows('SELECT id, count(DISTINCT note), string_agg(note, '','' ORDER BY note) FROM orders GROUP BY id HAVING count(*) = 1');
SELECT same_rows('SELECT DISTINCT count(*) FROM lines GROUP BY order_id');
-- Settings and the search path are this session's: a node's session would
-- read its own (an unknown setting there, another search_path).
SET phantom.test_note = 'n7';
SELECT same_rows('SELECT id, note FROM orders WHERE note = current_setting(''phantom.test_note'') OR note = current_schema()');
SELECT same_rows('SELECT count(*), current_setting(''phantom.test_note'') FROM orders GROUP BY id HAVING count(*) > 5');
RESET phantom.test_note;
SELECT same_rows('SELECT id, generate_series(1, 2) FROM orders WHERE id < 10 GROUP BY id');

-- Window functions partitioned by the distribution column run per shard too.
EXPLAIN (COSTS OFF)
  SELECT order_id, line, sum(qty) OVER (PARTITION BY order_id ORDER BY line) FROM dist.lines ORDER BY 1, 2 LIMIT 4;
SELECT same_rows('SELECT order_id, line, sum(qty) OVER (PARTITION BY order_id ORDER BY line) FROM lines ORDER BY 1, 2 LIMIT 4');
SELECT same_rows('SELECT o.id, rank() OVER (PARTITION BY o.id ORDER BY l.qty DESC, l.line) FROM orders o JOIN lines l ON l.order_id = o.id');
SELECT same_rows('SELECT order_id, sum(qty), rank() OVER (PARTITION BY order_id ORDER BY sum(qty)) FROM lines GROUP BY order_id');

-- Aggregates that split: partial results per shard, combined here.
EXPLAIN (COSTS OFF)
  SELECT customer, count(*), avg(amount) FROM dist.orders WHERE amount > 50 GROUP BY customer HAVING count(*) > 3;
SELECT same_rows('SELECT customer, count(*), avg(amount) FROM orders WHERE amount > 50 GROUP BY customer HAVING count(*) > 3');
SELECT same_rows('SELECT count(*) AS a, count(note) AS b, sum(amount) AS c, avg(amount) AS d, min(placed) AS e, max(note) AS f, sum(id) AS g, avg(id) AS h FROM orders');
SELECT same_rows('SELECT sum(small) AS a, avg(small) AS b, avg(customer) AS c, sum(customer) AS d, min(small) AS e, max(ratio) AS f FROM orders');
SELECT same_rows('SELECT round(avg(ratio)::numeric, 10) AS a, round(sum(ratio)::numeric, 8) AS b, sum(waited) AS c, avg(waited) AS d FROM orders');
-- Variance and standard deviation of integers and numerics split exactly
-- (compared as text: the same digits and scale).
SELECT same_rows('SELECT customer % 3 AS g, var_samp(amount)::text a, var_pop(amount)::text b, variance(customer)::text c, stddev(id)::text d, stddev_pop(amount)::text e, stddev_samp(small)::text f FROM orders GROUP BY 1');
SELECT same_rows('SELECT var_samp(amount)::text a, stddev(amount)::text b, var_pop(amount)::text c FROM orders WHERE id IN (5, 900)');
SELECT same_rows('SELECT var_samp(amount)::text a, stddev(amount)::text b, var_pop(amount)::text c FROM orders WHERE id = 5');
SELECT same_rows('SELECT placed, (stddev(amount) FILTER (WHERE paid))::text a, var_samp(small)::text b FROM orders GROUP BY placed');
SELECT same_rows('SELECT bool_and(paid), bool_or(paid), every(amount > 0), bit_and(customer), bit_or(customer), bit_xor(customer) FROM orders');
SELECT same_rows('SELECT placed, count(*) FILTER (WHERE paid) AS a, avg(amount) FILTER (WHERE note LIKE ''n1%'') AS b FROM orders GROUP BY placed');
SELECT same_rows('SELECT customer % 5 AS a, placed > ''2026-02-01'' AS b, count(*) FROM orders GROUP BY 1, 2 HAVING sum(amount) > 100 ORDER BY 3 DESC, 1, 2 LIMIT 4');
SELECT same_rows('SELECT min(note COLLATE "C") AS a, max(note COLLATE "C") AS b FROM orders GROUP BY customer % 3');
SELECT same_rows('SELECT customer, rank() OVER (ORDER BY count(*) DESC, customer) FROM orders GROUP BY customer');
SELECT same_rows('SELECT r.manager, count(*), sum(o.amount) FROM orders o JOIN regions r ON r.name = (ARRAY[''north'', ''south'', ''east''])[1 + o.customer % 3] GROUP BY r.manager');
-- No rows at all: count is 0, the others NULL, as on one server.
SELECT same_rows('SELECT count(*) AS a, count(v) AS b, sum(v) AS c, avg(v) AS d, min(v) AS e, bool_and(v > 0) AS f FROM empty');
SELECT same_rows('SELECT count(*), sum(amount) FROM orders WHERE id < 0');
SELECT same_rows('SELECT v, count(*) FROM empty GROUP BY v');

-- EXPLAIN ANALYZE adds what each node did and one shard group's own plan.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*), max(amount) FROM dist.orders WHERE amount > 50;

-- Anything else: the shards return the joined, filtered rows.
EXPLAIN (COSTS OFF) SELECT id, amount FROM dist.orders ORDER BY amount DESC, id LIMIT 5 OFFSET 5;
SELECT same_rows('SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 5 OFFSET 5');
SELECT same_rows('SELECT id, amount FROM orders ORDER BY amount DESC FETCH FIRST 3 ROWS WITH TIES');
EXPLAIN (COSTS OFF) SELECT count(DISTINCT customer) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id WHERE l.qty > 3;
SELECT same_rows('SELECT count(DISTINCT customer) FROM orders o JOIN lines l ON l.order_id = o.id WHERE l.qty > 3');
SELECT same_rows('SELECT customer, array_agg(id ORDER BY id) FROM orders WHERE id < 100 GROUP BY customer');
SELECT same_rows('SELECT DISTINCT ON (customer) customer, id, amount FROM orders ORDER BY customer, amount DESC, id');
-- DISTINCT: each shard group drops its own duplicates first.
EXPLAIN (COSTS OFF) SELECT DISTINCT o.customer, l.qty FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id;
SELECT same_rows('SELECT DISTINCT o.customer, l.qty FROM orders o JOIN lines l ON l.order_id = o.id');
SELECT same_rows('SELECT DISTINCT customer % 5 AS a, note IS NULL AS b FROM orders');
SELECT same_rows('SELECT id, sum(amount) OVER (PARTITION BY customer ORDER BY id) FROM orders WHERE id < 200');
SELECT same_rows('SELECT customer, count(*) FROM orders GROUP BY ROLLUP (customer)');
SELECT same_rows('SELECT o.id, l.line FROM orders o LEFT JOIN lines l ON l.order_id = o.id AND l.qty > 2 WHERE o.id < 40');
SELECT same_rows('SELECT o.id, l.line FROM orders o FULL JOIN lines l ON l.order_id = o.id WHERE coalesce(o.id, l.order_id) % 97 = 0');
SELECT same_rows('SELECT id, (SELECT manager FROM regions WHERE name = ''north'') FROM orders WHERE id < 5');
SELECT same_rows('SELECT id, (SELECT count(*) FROM lines l WHERE l.order_id = o.id) FROM orders o WHERE id < 30');
SELECT same_rows('SELECT id FROM orders WHERE note IN (SELECT ''n'' || g FROM generate_series(1, 20) g) ORDER BY id LIMIT (SELECT count(*) FROM regions)');
SELECT same_rows('SELECT id FROM orders WHERE note IN (SELECT name FROM regions) OR id IN (3, 4)');
SELECT same_rows('SELECT id, random() >= 0 FROM orders WHERE id % 500 = 0');

-- Sub-queries in FROM and CTEs that each shard group computes completely
-- (grouped by the key, or plain rows) join in like tables.
EXPLAIN (COSTS OFF)
  WITH per_order AS (SELECT order_id, sum(qty) AS s FROM dist.lines GROUP BY order_id)
  SELECT o.customer, sum(p.s) FROM dist.orders o JOIN per_order p ON p.order_id = o.id GROUP BY 1;
SELECT same_rows('WITH per_order AS (SELECT order_id, sum(qty) AS s FROM lines GROUP BY order_id) SELECT o.customer, sum(p.s) FROM orders o JOIN per_order p ON p.order_id = o.id GROUP BY 1');
SELECT same_rows('SELECT count(*), sum(s) FROM (SELECT id, sum(qty) s FROM lines l JOIN orders o ON o.id = l.order_id GROUP BY id) t WHERE s > 5');
SELECT same_rows('SELECT * FROM (SELECT id FROM orders WHERE id < 10) a JOIN (SELECT order_id, line FROM lines) b ON a.id = b.order_id');
SELECT same_rows('SELECT r.manager, count(*) FROM (SELECT name, manager FROM regions WHERE name <> ''east'') r JOIN orders o ON r.name = (ARRAY[''north'', ''south'', ''east''])[1 + o.customer % 3] GROUP BY 1');
-- Grouped off the key, the sub-query is incomplete per shard group: fallback.
EXPLAIN (COSTS OFF) WITH c AS (SELECT customer, count(*) n FROM dist.orders GROUP BY customer) SELECT * FROM c WHERE n > 81;
SELECT same_rows('WITH c AS (SELECT customer, count(*) n FROM orders GROUP BY customer) SELECT * FROM c WHERE n > 81');

-- Constants on the key leave only their shard groups to run.
EXPLAIN (COSTS OFF) SELECT customer, count(*) FROM dist.orders WHERE id IN (1, 2, 3, 4, 5) GROUP BY 1;
SELECT same_rows('SELECT customer, count(*) FROM orders WHERE id IN (1, 2, 3, 4, 5) GROUP BY 1');
SELECT same_rows('SELECT count(*) FROM orders o JOIN lines l ON l.order_id = o.id WHERE o.id IN (4, 7, 10, 13) AND l.order_id = ANY (''{4,7,100}'')');

-- Sub-queries over colocated tables in WHERE stay in the shard group when
-- they are tied to the outer row's key, or test the key's membership.
EXPLAIN (COSTS OFF)
  SELECT count(*) FROM dist.orders o WHERE EXISTS (SELECT 1 FROM dist.lines l WHERE l.order_id = o.id AND l.qty = 4);
SELECT same_rows('SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM lines l WHERE l.order_id = o.id AND l.qty = 4)');
SELECT same_rows('SELECT customer, count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lines l WHERE l.order_id = o.id) GROUP BY customer');
SELECT same_rows('SELECT id FROM orders o WHERE amount > (SELECT sum(qty) FROM lines l WHERE l.order_id = o.id) AND id < 500');
SELECT same_rows('SELECT id FROM orders o WHERE amount < ALL (SELECT qty * 20 FROM lines l WHERE l.order_id = o.id)');
EXPLAIN (COSTS OFF) SELECT count(*) FROM dist.orders WHERE id NOT IN (SELECT order_id FROM dist.lines WHERE qty > 3);
SELECT same_rows('SELECT count(*) FROM orders WHERE id IN (SELECT order_id FROM lines WHERE qty > 3)');
SELECT same_rows('SELECT count(*) FROM orders WHERE id NOT IN (SELECT order_id FROM lines WHERE qty > 3)');
-- Not tied to the key: a shard group would see only part of the list.
EXPLAIN (COSTS OFF) SELECT count(*) FROM dist.orders WHERE customer IN (SELECT order_id FROM dist.lines WHERE qty > 3);
SELECT same_rows('SELECT count(*) FROM orders WHERE customer IN (SELECT order_id FROM lines WHERE qty > 3)');
SELECT same_rows('SELECT count(*) FROM orders WHERE id IN (SELECT max(order_id) FROM lines)');
SELECT same_rows('SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM lines l WHERE l.qty = o.customer)');
SELECT same_rows('SELECT o.id FROM orders o LEFT JOIN lines l ON l.order_id = o.id AND l.line = 1 WHERE l.order_id NOT IN (SELECT order_id FROM lines WHERE qty = 0) OR o.id < 5');

-- A reference table on the kept side of an outer join would repeat its
-- unmatched rows once per shard: that query takes the general fallback.
EXPLAIN (COSTS OFF) SELECT r.name, count(o.id) FROM dist.regions r LEFT JOIN dist.orders o ON o.note = r.name GROUP BY r.name;
SELECT same_rows('SELECT r.name, count(o.id) FROM regions r LEFT JOIN orders o ON o.note = r.name GROUP BY r.name');

-- Prepared statements: generic plans carry the parameters to the shards.
SET plan_cache_mode = force_generic_plan;
SET search_path = dist, public;
PREPARE top(int, bigint, bigint) AS
  SELECT customer, count(*), avg(amount) FROM orders WHERE customer > $1 GROUP BY customer ORDER BY 1 LIMIT $2 OFFSET $3;
EXPLAIN (COSTS OFF) EXECUTE top(30, 2, 1);
EXECUTE top(30, 2, 1);
EXECUTE top(33, 5, 0);
PREPARE per_customer(int) AS SELECT count(*) FROM orders WHERE customer = $1;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE per_customer(3);
PREPARE per_order(int) AS SELECT o.id, sum(l.qty) FROM orders o JOIN lines l ON l.order_id = o.id WHERE l.qty > $1 GROUP BY o.id ORDER BY 2 DESC, 1 LIMIT 3;
EXECUTE per_order(1);
SET search_path = loc, public;
EXECUTE top(30, 2, 1);
EXECUTE top(33, 5, 0);
EXECUTE per_order(1);
RESET search_path;
RESET plan_cache_mode;

-- INSERT ... SELECT between colocated tables, the key unchanged: each shard
-- group inserts the rows it reads, on its own node.
CREATE TABLE dist.orders_copy (LIKE dist.orders INCLUDING ALL);
SELECT phantom_create_distributed_table('dist.orders_copy', 'id', 8, colocate_with => 'dist.orders');
CREATE TABLE loc.orders_copy (LIKE dist.orders_copy INCLUDING ALL);
EXPLAIN (COSTS OFF) INSERT INTO dist.orders_copy SELECT * FROM dist.orders WHERE paid;
INSERT INTO dist.orders_copy SELECT * FROM dist.orders WHERE paid;
INSERT INTO loc.orders_copy SELECT * FROM loc.orders WHERE paid;
INSERT INTO dist.orders_copy (id, customer, amount)
  SELECT o.id, count(*), sum(l.qty) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id GROUP BY o.id
  ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount;
INSERT INTO loc.orders_copy (id, customer, amount)
  SELECT o.id, count(*), sum(l.qty) FROM loc.orders o JOIN loc.lines l ON l.order_id = o.id GROUP BY o.id
  ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount;
SELECT same_rows('SELECT * FROM orders_copy');
BEGIN;
INSERT INTO dist.orders_copy (id, customer) SELECT id, customer FROM dist.orders WHERE id % 1000 = 0 AND id % 3 <> 1 AND NOT paid
  RETURNING id, customer;
ROLLBACK;
-- A row whose key changes may belong to another shard group: through here.
EXPLAIN (COSTS OFF) INSERT INTO dist.orders_copy (id, customer) SELECT id + 5000, customer FROM dist.orders;
INSERT INTO dist.orders_copy (id, customer) SELECT id + 5000, customer FROM dist.orders WHERE id < 100;
INSERT INTO loc.orders_copy (id, customer) SELECT id + 5000, customer FROM loc.orders WHERE id < 100;
SELECT same_rows('SELECT * FROM orders_copy');

-- UPDATE and DELETE whose sub-queries are tied to the row's key run shard
-- by shard; others are refused rather than run against part of the rows.
BEGIN;
DELETE FROM dist.lines l WHERE EXISTS (SELECT 1 FROM dist.orders o WHERE o.id = l.order_id AND o.customer = 4);
DELETE FROM loc.lines l WHERE EXISTS (SELECT 1 FROM loc.orders o WHERE o.id = l.order_id AND o.customer = 4);
UPDATE dist.orders o SET amount = (SELECT sum(qty) FROM dist.lines l WHERE l.order_id = o.id) WHERE id % 7 = 0;
UPDATE loc.orders o SET amount = (SELECT sum(qty) FROM loc.lines l WHERE l.order_id = o.id) WHERE id % 7 = 0;
SELECT same_rows('SELECT * FROM lines');
SELECT same_rows('SELECT * FROM orders');
UPDATE dist.orders SET amount = 1 WHERE customer IN (SELECT order_id FROM dist.lines);
ROLLBACK;

-- A node's shards may run over several connections outside a transaction
-- block; inside one, every read uses the block's own connection and sees
-- its writes.
SET phantomdb.max_connections_per_node = 4;
SELECT same_rows('SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer');
SELECT same_rows('SELECT o.id, l.line FROM orders o JOIN lines l ON l.order_id = o.customer');
BEGIN;
INSERT INTO dist.orders (id, customer, amount) SELECT g, 1, 1000 FROM generate_series(10001, 10010) g;
SELECT count(*), sum(amount) FROM dist.orders WHERE amount >= 1000;
SELECT count(*) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.customer WHERE o.id > 10000;
ROLLBACK;
SELECT count(*) FROM dist.orders WHERE amount >= 1000;
RESET phantomdb.max_connections_per_node;

-- Outside a transaction block the other nodes' rows stream, on connections
-- of their own: a LIMIT above the scan ends the remote statements, and a
-- function that queries distributed tables per row runs meanwhile.
SELECT count(*) FROM (SELECT id, generate_series(1, 2) FROM dist.orders LIMIT 3) s;
SELECT count(*) FROM dist.orders;
CREATE FUNCTION dist.lines_of(bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM dist.lines WHERE order_id = $1';
CREATE FUNCTION loc.lines_of(bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM loc.lines WHERE order_id = $1';
SELECT same_rows('SELECT customer, sum(lines_of(id)) FROM orders WHERE customer < 3 GROUP BY customer');
-- statement_timeout (and cancel) stops the fragments on every node; the
-- session's connections serve the next statement.
SET statement_timeout = '300ms';
SELECT count(*) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id WHERE md5(repeat(o.note || l.line, 200000)) <> '';
RESET statement_timeout;
SELECT count(*) FROM dist.orders o JOIN dist.lines l ON l.order_id = o.id;
-- In a block, a cursor's rows are read whole, so the block's next
-- statements can use the nodes' connections.
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM dist.orders WHERE customer = 3 ORDER BY id;
FETCH 2 FROM c;
SELECT count(*) FROM dist.orders;
FETCH 2 FROM c;
COMMIT;

-- A security-barrier view is planned here (the general fallback): the SQL
-- sent to a node would lose the barrier.
CREATE VIEW dist.paid_orders WITH (security_barrier) AS SELECT id, customer FROM dist.orders WHERE paid;
CREATE VIEW loc.paid_orders WITH (security_barrier) AS SELECT id, customer FROM loc.orders WHERE paid;
EXPLAIN (COSTS OFF) SELECT count(*) FROM dist.paid_orders;
SELECT same_rows('SELECT customer, count(*) FROM paid_orders GROUP BY customer');
UPDATE dist.paid_orders SET customer = customer WHERE id = 5;
DROP VIEW dist.paid_orders;

-- A user's privileges on the tables still apply.
CREATE ROLE phantom_pushdown_reader;
GRANT USAGE ON SCHEMA dist TO phantom_pushdown_reader;
SET ROLE phantom_pushdown_reader;
SELECT count(*) FROM dist.orders;
RESET ROLE;
REVOKE USAGE ON SCHEMA dist FROM phantom_pushdown_reader;
DROP ROLE phantom_pushdown_reader;

-- The placeholder the plans scan cannot be called.
SELECT * FROM phantomdb.fragment_results() AS f(a int);

DROP FUNCTION same_rows(text);
DROP SCHEMA loc CASCADE;
DROP FUNCTION dist.lines_of(bigint);
DROP TABLE dist.orders, dist.lines, dist.regions, dist.empty, dist.orders_copy;
DROP SCHEMA dist;
SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
DROP EXTENSION phantomdb;
