-- Schema and data for test/t/003_differential.pl.
--
-- Two schemas hold the same tables with the same rows: "plain" stays
-- ordinary Postgres, "dist" is then distributed by PhantomDB. The corpus and
-- the query generator run every query against both (search_path) and the
-- results must match. The data is built once, in plain, with generate_series
-- and arithmetic only (no random()), and copied to dist before distributing,
-- so both sides start from identical rows.
--
-- Deliberate awkwardness in the data: NULLs in every non-key column, empty
-- strings next to NULLs, duplicate rows, negative numbers, one hot customer
-- (id 7) with a quarter of all orders, customers without orders (empty
-- groups), orders without a customer and line items without an order (outer
-- joins), region names missing from the reference table.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET TimeZone = 'UTC';

CREATE SCHEMA plain;
CREATE SCHEMA dist;

-- Customers 1..300 and -5..-1 (negative keys hash like any other).
-- 251..300 and the negative ones have no orders.
CREATE TABLE plain.customers (id int PRIMARY KEY, name text, region text, tier int, created date);
INSERT INTO plain.customers
  SELECT g,
         CASE WHEN g % 41 = 0 THEN NULL ELSE 'cust' || (g % 97) END,          -- duplicate names
         CASE WHEN g % 13 = 0 THEN NULL
              ELSE (ARRAY['north', 'south', 'east', 'west', 'central'])[1 + g % 5] END,  -- central: no region row
         CASE WHEN g % 9 = 0 THEN NULL ELSE g % 5 - 1 END,                     -- -1..3
         date '2020-01-01' + (g * 17) % 1500
    FROM generate_series(-5, 300) g
   WHERE g <> 0;

-- Orders: 1..1500 spread over customers 1..250, 1501..2000 all for the hot
-- customer 7, 2001..2020 for customers that do not exist.
CREATE TABLE plain.orders (id bigint, customer_id int, amount numeric(10, 2), status text, placed date, note text,
                           PRIMARY KEY (customer_id, id));
INSERT INTO plain.orders
  SELECT g,
         CASE WHEN g <= 1500 THEN 1 + (g * 37) % 250
              WHEN g <= 2000 THEN 7
              ELSE 900 + g % 5 END,
         CASE WHEN g % 17 = 0 THEN NULL ELSE ((g * 7919) % 20000 - 2000) / 100.0 END,  -- -20.00..179.99
         CASE WHEN g % 23 = 0 THEN NULL ELSE (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4] END,
         date '2025-01-01' + (g * 13) % 400,
         CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN '' ELSE 'note ' || (g % 50) END
    FROM generate_series(1, 2020) g;

-- Line items for every other order (1..2000), 1 to 4 lines each, plus lines
-- of orders 5001..5010, which do not exist. No primary key: rows repeat.
CREATE TABLE plain.lineitems (order_id bigint NOT NULL, line int, qty int, price numeric, sku text);
INSERT INTO plain.lineitems
  SELECT g, l,
         CASE WHEN (g + l) % 19 = 0 THEN NULL ELSE (g + l) % 7 - 1 END,       -- -1..5
         -- One scale for every price: equal numerics of different scales
         -- (3.0 and 3.00) group together and either may be shown.
         CASE WHEN (g * l) % 31 = 0 THEN NULL ELSE round(((g * l) % 500) / 10.0, 2) END,
         CASE WHEN (g + l) % 29 = 0 THEN NULL ELSE 'SKU-' || lpad(((g * l) % 40)::text, 3, '0') END
    FROM generate_series(2, 2000, 2) g, generate_series(1, 4) l
   WHERE l <= 1 + g % 4;
INSERT INTO plain.lineitems
  SELECT 5000 + g, 1, g - 3, round(g * 1.5, 2), 'SKU-ORPHAN' FROM generate_series(1, 10) g;
INSERT INTO plain.lineitems SELECT * FROM plain.lineitems WHERE order_id % 250 = 0;   -- exact duplicates

-- Events keyed by text: keys k0..k59 (k60..k99 never occur), duplicates.
CREATE TABLE plain.events (key text NOT NULL, ts timestamptz, kind text, val int);
INSERT INTO plain.events
  SELECT 'k' || (g % 60),
         CASE WHEN g % 31 = 0 THEN NULL ELSE timestamptz '2025-03-01 00:00:00+00' + g * interval '37 minutes' END,
         CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['click', 'view', 'buy'])[1 + g % 3] END,
         CASE WHEN g % 15 = 0 THEN NULL ELSE (g * 31) % 200 - 50 END
    FROM generate_series(1, 1200) g;
INSERT INTO plain.events SELECT * FROM plain.events WHERE val BETWEEN 0 AND 9;

-- Reference table: no row for 'central'; one manager unknown.
CREATE TABLE plain.regions (name text PRIMARY KEY, manager text);
INSERT INTO plain.regions VALUES ('north', 'ann'), ('south', 'bob'), ('east', 'cy'), ('west', NULL), ('polar', 'dee');

-- Holidays: a plain local table in both schemas, never distributed.
CREATE TABLE plain.holidays (d date);
INSERT INTO plain.holidays
  SELECT date '2025-01-01' + g * 11 FROM generate_series(0, 40) g;
INSERT INTO plain.holidays VALUES (NULL), (date '2025-01-01');   -- a NULL and a duplicate

-- The same tables in dist, filled from plain.
CREATE TABLE dist.customers (LIKE plain.customers INCLUDING ALL);
CREATE TABLE dist.orders (LIKE plain.orders INCLUDING ALL);
CREATE TABLE dist.lineitems (LIKE plain.lineitems INCLUDING ALL);
CREATE TABLE dist.events (LIKE plain.events INCLUDING ALL);
CREATE TABLE dist.regions (LIKE plain.regions INCLUDING ALL);
CREATE TABLE dist.holidays (LIKE plain.holidays INCLUDING ALL);
INSERT INTO dist.customers SELECT * FROM plain.customers;
INSERT INTO dist.orders SELECT * FROM plain.orders;
INSERT INTO dist.lineitems SELECT * FROM plain.lineitems;
INSERT INTO dist.events SELECT * FROM plain.events;
INSERT INTO dist.regions SELECT * FROM plain.regions;
INSERT INTO dist.holidays SELECT * FROM plain.holidays;

-- customers and orders colocated on the customer id; lineitems by order id
-- in another shard count (joins with orders on the order id are not
-- colocated); events by a text column; regions everywhere; holidays local.
SELECT phantom_create_distributed_table('dist.customers', 'id', 8, colocate_with => 'none');
SELECT phantom_create_distributed_table('dist.orders', 'customer_id', 8, colocate_with => 'dist.customers');
SELECT phantom_create_distributed_table('dist.lineitems', 'order_id', 6, colocate_with => 'none');
SELECT phantom_create_distributed_table('dist.events', 'key', 4, colocate_with => 'none');
SELECT phantom_create_reference_table('dist.regions');

ANALYZE plain.customers, plain.orders, plain.lineitems, plain.events, plain.regions, plain.holidays, dist.holidays;
