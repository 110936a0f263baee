-- SELECTs the router cannot run on one shard go through the general
-- fallback (docs/distributed-tables.md): the shards' rows are fetched, with
-- the filters the nodes can apply, and Postgres computes the rest here.
-- Every query below runs twice, on distributed tables (schema dist) and on
-- local copies (schema loc), and the two results must hold the same rows.
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');

CREATE SCHEMA dist;
CREATE SCHEMA loc;
CREATE TABLE dist.orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(10, 2), placed date, note text);
INSERT INTO dist.orders
  SELECT g, g % 37, (g * 7 % 1000) / 10.0, date '2026-01-01' + g % 90, CASE WHEN g % 11 = 0 THEN NULL ELSE 'n' || g END
    FROM generate_series(1, 3000) g;
CREATE TABLE dist.lines (order_id bigint, line int, qty int, PRIMARY KEY (order_id, line));
INSERT INTO dist.lines SELECT g, l, (g + l) % 5 FROM generate_series(1, 3000, 3) g, generate_series(1, 3) l;
CREATE TABLE dist.customers (id int PRIMARY KEY, region text);
INSERT INTO dist.customers SELECT g, (ARRAY['north', 'south', 'east'])[1 + g % 3] FROM generate_series(0, 40) g;
CREATE TABLE dist.regions (name text PRIMARY KEY, manager text);
INSERT INTO dist.regions VALUES ('north', 'ann'), ('south', 'bob'), ('east', 'cy');
CREATE TABLE loc.orders AS SELECT * FROM dist.orders;
CREATE TABLE loc.lines AS SELECT * FROM dist.lines;
CREATE TABLE loc.customers AS SELECT * FROM dist.customers;
CREATE TABLE loc.regions AS SELECT * FROM dist.regions;
SELECT phantom_create_distributed_table('dist.orders', 'id', 8);
SELECT phantom_create_distributed_table('dist.lines', 'order_id', 8, colocate_with => 'dist.orders');
SELECT phantom_create_distributed_table('dist.customers', 'id', 4, colocate_with => 'none');
SELECT phantom_create_reference_table('dist.regions');

\i sql/include/same_rows.sql

-- Aggregates, grouping, filters.
SELECT same_rows('SELECT count(*), sum(amount), avg(amount), min(placed), max(note) FROM orders');
SELECT same_rows('SELECT customer, count(*), sum(amount) FROM orders WHERE amount > 20 GROUP BY customer HAVING count(*) > 10');
SELECT same_rows('SELECT count(DISTINCT customer), bool_and(amount >= 0), string_agg(note, '','' ORDER BY id) FROM orders WHERE id < 50');
SELECT same_rows('SELECT placed, count(*) FROM orders WHERE note LIKE ''n1%'' AND placed BETWEEN ''2026-02-01'' AND ''2026-02-10'' GROUP BY placed');
SELECT same_rows('SELECT * FROM orders WHERE id IN (1, 2, 3, 400, 2999) OR note IS NULL');
SELECT same_rows('SELECT DISTINCT customer % 5 FROM orders');
SELECT same_rows('SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 10 OFFSET 5');
-- Joins: colocated, not colocated, with a reference table, with a local table.
SELECT same_rows('SELECT o.id, sum(l.qty) FROM orders o JOIN lines l ON l.order_id = o.id GROUP BY o.id');
SELECT same_rows('SELECT c.region, count(*) FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.region');
SELECT same_rows('SELECT r.manager, sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer JOIN regions r ON r.name = c.region GROUP BY r.manager');
SELECT same_rows('SELECT o.id, l.line FROM orders o LEFT JOIN lines l ON l.order_id = o.id AND l.qty > 2 WHERE o.id < 30');
SELECT same_rows('SELECT c.id, count(o.id) FROM customers c FULL JOIN orders o ON o.customer = c.id GROUP BY c.id');
CREATE TABLE public.vip (customer int);
INSERT INTO public.vip VALUES (3), (5), (8);
SELECT same_rows('SELECT o.id FROM orders o JOIN public.vip v ON v.customer = o.customer WHERE o.amount > 90');
-- Subqueries, CTEs, set operations, window functions, LATERAL.
SELECT same_rows('SELECT id FROM orders WHERE customer IN (SELECT id FROM customers WHERE region = ''east'') AND id % 10 = 0');
SELECT same_rows('SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM lines l WHERE l.order_id = o.id AND l.qty = 4)');
SELECT same_rows('SELECT id FROM orders o WHERE amount > (SELECT avg(amount) FROM orders i WHERE i.customer = o.customer) AND id < 300');
SELECT same_rows('WITH big AS (SELECT customer, sum(amount) s FROM orders GROUP BY customer) SELECT * FROM big WHERE s > (SELECT avg(s) FROM big)');
SELECT same_rows('SELECT customer FROM orders WHERE id < 100 UNION SELECT id FROM customers EXCEPT SELECT 7');
SELECT same_rows('SELECT id, customer, rank() OVER (PARTITION BY customer ORDER BY amount DESC, id) FROM orders WHERE id < 500');
SELECT same_rows('SELECT c.id, x.top FROM customers c, LATERAL (SELECT max(amount) AS top FROM orders o WHERE o.customer = c.id) x');
SELECT same_rows('SELECT id FROM orders WHERE id < 20 UNION ALL SELECT order_id FROM lines WHERE order_id < 10');
SELECT same_rows('SELECT id FROM orders UNION ALL SELECT order_id FROM lines ORDER BY 1 DESC LIMIT 7');
SELECT same_rows('WITH RECURSIVE chain(n) AS (SELECT min(id) FROM orders UNION ALL SELECT n + 1 FROM chain WHERE n < 20) SELECT * FROM chain');
SELECT same_rows('SELECT * FROM (SELECT id, amount FROM orders WHERE id = 42) s');
-- Constants on the distribution column leave only their shards to read.
SELECT same_rows('SELECT o.id, c.region FROM orders o JOIN customers c ON c.id = o.customer WHERE o.id IN (5, 6, 7)');
SELECT same_rows('SELECT count(*) FROM orders WHERE id = 5 AND id = 6');

-- Parameters of prepared statements reach the nodes with the filters.
SET search_path = dist, public;
PREPARE by_customer(int) AS SELECT count(*), sum(amount) FROM orders WHERE customer = $1;
EXECUTE by_customer(7);
EXECUTE by_customer(8);
SET search_path = loc, public;
EXECUTE by_customer(7);
RESET search_path;

-- A transaction sees its own writes through the fallback too.
BEGIN;
INSERT INTO dist.orders VALUES (9001, 1, 1.00, '2026-01-01', 'new');
SELECT count(*) FROM dist.orders;
ROLLBACK;
SELECT count(*) FROM dist.orders;

-- EXPLAIN names the fallback and what each node is asked.
EXPLAIN (COSTS OFF) SELECT * FROM dist.orders o JOIN dist.customers c ON c.id = o.customer WHERE o.note LIKE 'n9%';
EXPLAIN (COSTS OFF) SELECT * FROM dist.orders o JOIN dist.customers c ON c.id = o.customer WHERE o.id IN (5, 6, 7);

-- Still refused: row locks over several shards.
SELECT * FROM dist.orders WHERE amount > 99 FOR UPDATE;

DROP FUNCTION same_rows(text);
DROP TABLE public.vip;
DROP SCHEMA loc CASCADE;
DROP TABLE dist.orders, dist.lines, dist.customers, dist.regions;
DROP SCHEMA dist;
SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
DROP EXTENSION phantomdb;
