-- Hand-written differential corpus for test/t/003_differential.pl.
--
-- Format: lines starting with "--" are comments; every other non-blank line
-- is one SELECT. The same text runs with search_path = dist (distributed
-- tables) and search_path = plain (plain Postgres), so names are never
-- schema-qualified. A line starting with "ordered: " (stripped before
-- running) has a top-level ORDER BY that makes the row order total and is
-- compared row by row; every other query is compared as a multiset of rows.
-- Rules that keep the comparison exact: no LIMIT/OFFSET/FETCH without a
-- total ORDER BY; floats rounded in the query; array_agg/string_agg only
-- with an ORDER BY inside that decides the result (ordering by the
-- aggregated value itself is enough: ties are equal strings).
-- Tables: customers(id PK, name, region, tier, created), orders(id,
-- customer_id, amount, status, placed, note; PK (customer_id, id)),
-- lineitems(order_id, line, qty, price, sku; rows repeat), events(key, ts,
-- kind, val; rows repeat), regions(name PK, manager; reference),
-- holidays(d; local). See schema.sql.

-- ===== Whole tables and simple filters =====
SELECT * FROM customers;
SELECT * FROM orders;
SELECT * FROM lineitems;
SELECT * FROM events;
SELECT * FROM regions;
SELECT * FROM holidays;
SELECT * FROM customers WHERE id = 7;
SELECT * FROM customers WHERE id = -3;
SELECT * FROM customers WHERE id IN (1, 2, 3, 250, 299, 1000);
SELECT * FROM customers WHERE id = 7 OR id = 8;
SELECT * FROM customers WHERE id BETWEEN 10 AND 30;
SELECT * FROM customers WHERE id <> 7 AND id < 20;
SELECT * FROM customers WHERE region IS NULL;
SELECT * FROM customers WHERE region IS NOT NULL AND tier IS NULL;
SELECT * FROM customers WHERE tier < 0;
SELECT * FROM customers WHERE name LIKE 'cust1%';
SELECT * FROM customers WHERE name ILIKE 'CUST9_';
SELECT * FROM customers WHERE name NOT LIKE '%5%' AND id < 40;
SELECT * FROM customers WHERE name ~ '^cust[0-3]$';
SELECT * FROM customers WHERE created > date '2023-06-01';
SELECT * FROM customers WHERE created BETWEEN date '2020-03-01' AND date '2020-06-30';
SELECT * FROM customers WHERE region IN ('north', 'central') AND tier >= 2;
SELECT * FROM customers WHERE region = ANY (ARRAY['east', 'west']) AND id < 60;
SELECT * FROM customers WHERE NOT (region = 'north') AND id < 50;
SELECT * FROM customers WHERE region IS DISTINCT FROM 'north' AND id < 30;
SELECT * FROM customers WHERE tier IS NOT DISTINCT FROM NULL;
SELECT * FROM customers WHERE id = 999;
SELECT * FROM customers WHERE false;
SELECT * FROM customers WHERE id = 7 AND id = 8;
SELECT * FROM customers WHERE id IS NULL;
SELECT * FROM orders WHERE customer_id = 7;
SELECT * FROM orders WHERE customer_id = 7 AND amount > 150;
SELECT * FROM orders WHERE customer_id IN (7, 8, 9) AND status = 'paid';
SELECT * FROM orders WHERE id = 42;
SELECT * FROM orders WHERE id IN (1, 2, 3, 1501, 2010);
SELECT * FROM orders WHERE customer_id = 900;
SELECT * FROM orders WHERE amount < 0;
SELECT * FROM orders WHERE amount IS NULL;
SELECT * FROM orders WHERE note = '';
SELECT * FROM orders WHERE note IS NULL AND status IS NULL;
SELECT * FROM orders WHERE status <> 'paid' AND amount BETWEEN 10 AND 11;
SELECT * FROM orders WHERE placed = date '2025-02-14';
SELECT * FROM orders WHERE placed >= date '2026-01-01';
SELECT * FROM orders WHERE extract(dow FROM placed) = 0 AND amount > 170;
SELECT * FROM orders WHERE note LIKE 'note 4_' AND customer_id < 20;
SELECT * FROM orders WHERE coalesce(note, 'none') = 'none' AND customer_id < 15;
SELECT * FROM orders WHERE amount = 12.34 OR amount = -19.92;
SELECT * FROM orders WHERE (customer_id, id) = (7, 1501);
SELECT * FROM orders WHERE (customer_id, id) IN ((7, 1501), (38, 1), (1, 1));
SELECT * FROM orders WHERE customer_id + 0 = 7 AND id > 1990;
SELECT * FROM orders WHERE customer_id % 50 = 3 AND amount > 100;
SELECT * FROM orders WHERE customer_id = 7 OR amount > 179;
SELECT * FROM orders WHERE length(note) > 6 AND status = 'new' AND customer_id > 240;
SELECT * FROM orders WHERE upper(status) = 'CANCELLED' AND placed < date '2025-01-10';
SELECT * FROM lineitems WHERE order_id = 100;
SELECT * FROM lineitems WHERE order_id IN (250, 500, 750, 5005);
SELECT * FROM lineitems WHERE order_id > 5000;
SELECT * FROM lineitems WHERE qty < 0 AND price > 40;
SELECT * FROM lineitems WHERE qty IS NULL;
SELECT * FROM lineitems WHERE sku IS NULL OR price IS NULL;
SELECT * FROM lineitems WHERE sku LIKE 'SKU-03%' AND line = 4;
SELECT * FROM lineitems WHERE price = 0;
SELECT * FROM events WHERE key = 'k7';
SELECT * FROM events WHERE key IN ('k1', 'k59', 'k60', 'nope');
SELECT * FROM events WHERE key LIKE 'k5%' AND val > 100;
SELECT * FROM events WHERE ts IS NULL;
SELECT * FROM events WHERE ts >= timestamptz '2025-03-20 00:00:00+00' AND ts < timestamptz '2025-03-21 00:00:00+00';
SELECT * FROM events WHERE kind IS NULL AND val < 0;
SELECT * FROM events WHERE val BETWEEN 0 AND 9 AND key < 'k2';
SELECT * FROM events WHERE key = 'k60';
SELECT * FROM regions WHERE manager IS NULL;
SELECT * FROM regions WHERE name = 'north';
SELECT * FROM holidays WHERE d > date '2025-10-01';

-- ===== Projections and expressions =====
SELECT id, name || '/' || coalesce(region, '?') AS label, tier * 10 + 1 FROM customers;
SELECT id, upper(name), lower(region), length(name), initcap(region) FROM customers WHERE id < 100;
SELECT id, substr(name, 2, 3), left(name, 2), right(name, 2), reverse(name), replace(name, 'cust', 'c') FROM customers;
SELECT id, lpad(id::text, 5, '0'), rpad(coalesce(region, ''), 8, '.'), position('t' in name), strpos(name, '1') FROM customers;
SELECT id, split_part(note, ' ', 2), trim(both ' ' from note), concat(status, '-', note), concat_ws(',', status, note) FROM orders;
SELECT id, CASE WHEN amount < 0 THEN 'refund' WHEN amount < 50 THEN 'small' WHEN amount IS NULL THEN 'unknown' ELSE 'large' END FROM orders;
SELECT id, CASE status WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 ELSE 0 END FROM orders WHERE customer_id < 100;
SELECT id, coalesce(amount, 0), nullif(note, ''), coalesce(nullif(note, ''), 'empty') FROM orders;
SELECT id, amount::int, amount::text, round(amount), trunc(amount, 1), ceil(amount), floor(amount), abs(amount), sign(amount) FROM orders;
SELECT id, placed + 30, placed - date '2025-01-01', placed + interval '1 month', date_trunc('month', placed)::date FROM orders;
SELECT id, extract(year FROM placed), extract(month FROM placed), extract(doy FROM placed), to_char(placed, 'YYYY-MM Dy') FROM orders;
SELECT id, age(date '2026-01-01', created), created + interval '3 days 4 hours' FROM customers;
SELECT key, ts, ts + interval '90 minutes', date_trunc('hour', ts), extract(epoch FROM ts)::bigint, ts::date FROM events;
SELECT key, to_char(ts AT TIME ZONE 'UTC', 'HH24:MI'), (ts AT TIME ZONE 'America/New_York')::text FROM events WHERE val > 140;
SELECT order_id, line, qty * price, round(price / nullif(qty, 0), 4), qty::numeric / 3, qty / 2, qty % 3, power(qty, 2) FROM lineitems;
SELECT order_id, greatest(qty, line, 2), least(qty, line), price > 10 AND qty > 0, (price > 10) IS NOT TRUE FROM lineitems;
SELECT id, amount * 1.1 AS up, -amount AS neg, amount / 3 AS third FROM orders WHERE amount IS NOT NULL;
SELECT id, md5(name), encode(convert_to(name, 'UTF8'), 'hex'), name::bytea FROM customers WHERE id < 30;
SELECT id, format('%s:%s', id, name), quote_literal(name), quote_ident(region) FROM customers;
SELECT id, regexp_replace(note, '[0-9]+', '#'), note ~ '3$', note SIMILAR TO 'note (1|2)%' FROM orders;
SELECT id, ARRAY[id, tier], (ARRAY['a', 'b', 'c'])[1 + id % 3], row(id, region)::text FROM customers;
SELECT id, (amount > 0)::int, amount::float8 > 100.5, (id * 2)::smallint FROM orders;
SELECT key, val, val::text || kind, val IS NULL, kind IN ('buy', 'view') FROM events;
SELECT 1 + 1, 'const', NULL::int, current_date - current_date FROM customers WHERE id = 1;
SELECT name, manager, coalesce(manager, 'nobody') FROM regions;
SELECT d, d + 1, extract(isodow FROM d), d IN (SELECT d FROM holidays WHERE d < date '2025-03-01') FROM holidays;

-- ===== Aggregates without GROUP BY =====
SELECT count(*) FROM customers;
SELECT count(*), count(region), count(DISTINCT region), count(tier), count(DISTINCT tier) FROM customers;
SELECT count(*), count(amount), sum(amount), avg(amount), min(amount), max(amount) FROM orders;
SELECT sum(qty), avg(qty), min(price), max(price), sum(qty * price), count(DISTINCT sku) FROM lineitems;
SELECT min(placed), max(placed), min(note), max(note), min(status), max(status) FROM orders;
SELECT min(ts), max(ts), count(DISTINCT key), count(DISTINCT kind), sum(val), avg(val) FROM events;
SELECT bool_and(amount > -100), bool_or(amount < -19), every(status IS NOT NULL) FROM orders;
SELECT bit_and(tier), bit_or(tier), bit_and(id), bit_or(id) FROM customers WHERE tier >= 0;
SELECT round(stddev(amount), 6), round(variance(amount), 6), round(var_pop(amount), 6), round(stddev_samp(amount), 6), round(stddev_pop(amount), 6), round(var_samp(amount), 6) FROM orders;
SELECT round(stddev(val), 6), round(variance(val)::numeric, 6), round(stddev(val::float8)::numeric, 6) FROM events;
SELECT array_agg(id ORDER BY id) FROM customers WHERE tier = 3 AND id < 100;
SELECT string_agg(name, ',' ORDER BY name) FROM customers WHERE id < 50;
SELECT string_agg(DISTINCT region, '|' ORDER BY region) FROM customers;
SELECT array_agg(DISTINCT status ORDER BY status) FROM orders;
SELECT array_agg(note ORDER BY note NULLS FIRST) FROM orders WHERE customer_id = 7 AND id < 1600;
SELECT string_agg(sku, ';' ORDER BY sku DESC) FROM lineitems WHERE order_id < 40;
SELECT count(*) FILTER (WHERE amount > 100), sum(amount) FILTER (WHERE status = 'paid'), avg(amount) FILTER (WHERE customer_id = 7) FROM orders;
SELECT count(*) FILTER (WHERE region IS NULL), array_agg(id ORDER BY id) FILTER (WHERE tier = -1 AND id < 40) FROM customers;
SELECT count(*), sum(amount) FROM orders WHERE false;
SELECT count(*), max(id), string_agg(name, ',' ORDER BY name), bool_and(true) FROM customers WHERE id > 1000;
SELECT count(DISTINCT (customer_id, status)) FROM orders;
SELECT count(DISTINCT customer_id) FILTER (WHERE amount > 150) FROM orders;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount), percentile_cont(0.25) WITHIN GROUP (ORDER BY amount) FROM orders;
SELECT mode() WITHIN GROUP (ORDER BY status) FROM orders WHERE status IS NOT NULL;
SELECT json_agg(id ORDER BY id) FROM customers WHERE id < 12;
SELECT jsonb_object_agg(name, manager) FROM regions;
SELECT sum(amount) / count(*) FROM orders WHERE customer_id = 7;
SELECT 1 / count(*) FROM orders WHERE customer_id = 100000;
SELECT round(corr(qty, price)::numeric, 6), round(regr_slope(price, qty)::numeric, 6), round(covar_pop(qty, price)::numeric, 6) FROM lineitems;
SELECT max(length(note)), min(coalesce(length(note), -1)), sum(length(name)) FROM orders, customers WHERE customers.id = orders.customer_id;

-- ===== GROUP BY =====
SELECT customer_id, count(*), sum(amount), min(placed), max(placed) FROM orders GROUP BY customer_id;
SELECT status, count(*), sum(amount), round(avg(amount), 4) FROM orders GROUP BY status;
SELECT region, tier, count(*) FROM customers GROUP BY region, tier;
SELECT region, count(*), array_agg(id ORDER BY id) FROM customers WHERE id < 40 GROUP BY region;
SELECT date_trunc('month', placed)::date, count(*), sum(amount) FROM orders GROUP BY 1;
SELECT extract(dow FROM placed) AS dow, count(*) FROM orders GROUP BY dow;
SELECT customer_id % 10, count(*), count(DISTINCT status) FROM orders GROUP BY customer_id % 10;
SELECT amount > 0, count(*) FROM orders GROUP BY amount > 0;
SELECT coalesce(note, '<none>'), count(*) FROM orders GROUP BY coalesce(note, '<none>');
SELECT order_id, count(*), sum(qty), sum(qty * price), string_agg(sku, ',' ORDER BY sku) FROM lineitems GROUP BY order_id;
SELECT sku, count(*), sum(qty) FROM lineitems GROUP BY sku;
SELECT line, qty, count(*) FROM lineitems GROUP BY line, qty;
SELECT key, count(*), sum(val), min(ts), max(ts) FROM events GROUP BY key;
SELECT kind, count(*), count(DISTINCT key), round(avg(val), 6) FROM events GROUP BY kind;
SELECT date_trunc('day', ts), kind, count(*) FROM events GROUP BY 1, 2;
SELECT customer_id, status, count(*) FROM orders WHERE customer_id < 30 GROUP BY customer_id, status;
SELECT customer_id, bool_and(amount > 0), bool_or(status = 'cancelled'), every(note IS NOT NULL) FROM orders GROUP BY customer_id;
SELECT customer_id, round(stddev(amount), 6), round(var_pop(amount), 6) FROM orders GROUP BY customer_id;
SELECT customer_id, count(*) FILTER (WHERE status = 'paid'), sum(amount) FILTER (WHERE amount < 0) FROM orders GROUP BY customer_id;
SELECT customer_id, array_agg(id ORDER BY id) FROM orders WHERE customer_id BETWEEN 100 AND 110 GROUP BY customer_id;
SELECT tier, string_agg(name, ',' ORDER BY name) FILTER (WHERE id < 30) FROM customers GROUP BY tier;
SELECT region, bit_or(tier), bit_and(tier) FROM customers GROUP BY region;
SELECT status, count(*) FROM orders WHERE customer_id = 7 GROUP BY status;
SELECT status, count(*) FROM orders WHERE false GROUP BY status;
SELECT 1 AS one, count(*) FROM customers GROUP BY one;
SELECT count(*) FROM orders GROUP BY customer_id;
SELECT customer_id FROM orders GROUP BY customer_id;
SELECT id, name, count(*) FROM customers GROUP BY id;
SELECT region, count(*) FROM customers GROUP BY region HAVING count(*) > 55;
SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > 8;
SELECT customer_id, sum(amount) FROM orders GROUP BY customer_id HAVING sum(amount) < 0;
SELECT customer_id, max(amount) FROM orders GROUP BY customer_id HAVING max(amount) > 175 AND min(amount) < 0;
SELECT status, count(*) FROM orders GROUP BY status HAVING bool_or(amount IS NULL);
SELECT order_id FROM lineitems GROUP BY order_id HAVING count(*) > 4;
SELECT key, count(*) FROM events GROUP BY key HAVING count(*) FILTER (WHERE kind = 'buy') > 7;
SELECT count(*) FROM customers HAVING count(*) > 1000;
SELECT count(*) FROM customers HAVING count(*) > 10;
SELECT region, tier, count(*) FROM customers GROUP BY GROUPING SETS ((region), (tier), ());
SELECT region, tier, count(*), grouping(region, tier) FROM customers GROUP BY ROLLUP (region, tier);
SELECT status, date_trunc('quarter', placed)::date, count(*), sum(amount) FROM orders GROUP BY CUBE (status, date_trunc('quarter', placed)::date);
SELECT customer_id, status, sum(amount) FROM orders WHERE customer_id < 12 GROUP BY ROLLUP (customer_id, status);
SELECT kind, key, count(*) FROM events WHERE key < 'k15' GROUP BY GROUPING SETS ((kind, key), (kind), ());
SELECT line, count(*), sum(qty) FROM lineitems GROUP BY ROLLUP (line) HAVING count(*) > 100;
SELECT region, tier, count(*) FROM customers GROUP BY region, ROLLUP (tier);

-- ===== ORDER BY, LIMIT, OFFSET, FETCH =====
ordered: SELECT * FROM customers ORDER BY id;
ordered: SELECT * FROM customers ORDER BY id DESC LIMIT 10;
ordered: SELECT id, name FROM customers ORDER BY id LIMIT 10 OFFSET 100;
ordered: SELECT id, name FROM customers ORDER BY name, id LIMIT 20;
ordered: SELECT id, region FROM customers ORDER BY region NULLS FIRST, id LIMIT 25;
ordered: SELECT id, region FROM customers ORDER BY region DESC NULLS LAST, id DESC LIMIT 25;
ordered: SELECT id, tier FROM customers ORDER BY tier, id OFFSET 290;
ordered: SELECT * FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 15;
ordered: SELECT * FROM orders ORDER BY amount NULLS FIRST, id LIMIT 15;
ordered: SELECT * FROM orders WHERE customer_id = 7 ORDER BY id LIMIT 5 OFFSET 5;
ordered: SELECT id, placed FROM orders ORDER BY placed, id DESC LIMIT 12;
ordered: SELECT customer_id, id FROM orders ORDER BY customer_id DESC, id DESC LIMIT 7;
ordered: SELECT id, note FROM orders ORDER BY note COLLATE "C", id LIMIT 30;
ordered: SELECT id, amount FROM orders ORDER BY abs(amount) DESC NULLS LAST, id FETCH FIRST 10 ROWS ONLY;
ordered: SELECT id, amount FROM orders ORDER BY id OFFSET 2000 ROWS FETCH NEXT 100 ROWS ONLY;
SELECT customer_id, id FROM orders ORDER BY customer_id FETCH FIRST 3 ROWS WITH TIES;
SELECT status, id FROM orders ORDER BY status NULLS FIRST FETCH FIRST 1 ROW WITH TIES;
SELECT tier, id FROM customers ORDER BY tier DESC NULLS LAST FETCH FIRST 5 ROWS WITH TIES;
ordered: SELECT * FROM lineitems ORDER BY order_id, line, qty, price, sku LIMIT 40;
ordered: SELECT * FROM lineitems ORDER BY price DESC NULLS LAST, order_id, line, qty, sku LIMIT 10;
ordered: SELECT * FROM events ORDER BY ts NULLS FIRST, key, kind, val LIMIT 20;
ordered: SELECT * FROM events ORDER BY key, ts, kind, val OFFSET 1270;
ordered: SELECT customer_id, count(*) FROM orders GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 10;
ordered: SELECT customer_id, sum(amount) AS s FROM orders GROUP BY customer_id ORDER BY s NULLS FIRST, customer_id LIMIT 10;
ordered: SELECT status, count(*) FROM orders GROUP BY status ORDER BY status NULLS LAST;
ordered: SELECT key, count(*) FROM events GROUP BY key ORDER BY 2 DESC, 1 LIMIT 5;
ordered: SELECT region, tier, count(*) FROM customers GROUP BY ROLLUP (region, tier) ORDER BY region NULLS LAST, tier NULLS LAST, 3;
ordered: SELECT id FROM customers ORDER BY id LIMIT 0;
ordered: SELECT id FROM customers WHERE id > 1000 ORDER BY id LIMIT 5;
ordered: SELECT id FROM customers ORDER BY id LIMIT ALL;
ordered: SELECT id, name FROM customers ORDER BY id LIMIT (SELECT count(*) FROM regions);
ordered: SELECT id, amount FROM orders WHERE amount IS NOT NULL ORDER BY amount * -1, id LIMIT 8;
ordered: SELECT * FROM regions ORDER BY name;
ordered: SELECT * FROM holidays ORDER BY d NULLS FIRST;

-- ===== DISTINCT and DISTINCT ON =====
SELECT DISTINCT region FROM customers;
SELECT DISTINCT region, tier FROM customers;
SELECT DISTINCT customer_id FROM orders;
SELECT DISTINCT status, placed FROM orders WHERE placed < date '2025-01-20';
SELECT DISTINCT sku FROM lineitems;
SELECT DISTINCT * FROM lineitems WHERE order_id % 250 = 0;
SELECT DISTINCT * FROM events WHERE val BETWEEN 0 AND 3;
SELECT DISTINCT key FROM events;
SELECT DISTINCT kind, val % 10 FROM events;
SELECT DISTINCT note FROM orders WHERE customer_id = 7;
SELECT DISTINCT coalesce(region, 'none'), tier > 1 FROM customers;
ordered: SELECT DISTINCT ON (customer_id) customer_id, id, amount FROM orders ORDER BY customer_id, amount DESC NULLS LAST, id;
ordered: SELECT DISTINCT ON (region) region, id, name FROM customers ORDER BY region, id;
ordered: SELECT DISTINCT ON (key) key, ts, val FROM events ORDER BY key, ts DESC NULLS LAST, val, kind;
ordered: SELECT DISTINCT ON (status) status, placed, id FROM orders ORDER BY status, placed, id;
ordered: SELECT DISTINCT ON (order_id) order_id, line, price FROM lineitems ORDER BY order_id, price DESC NULLS LAST, line LIMIT 50;
ordered: SELECT DISTINCT region FROM customers ORDER BY region NULLS FIRST;
ordered: SELECT DISTINCT customer_id FROM orders ORDER BY customer_id DESC LIMIT 10;
SELECT count(*) FROM (SELECT DISTINCT customer_id, status FROM orders) s;

-- ===== Window functions =====
SELECT id, customer_id, amount, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST) FROM orders;
SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY id) FROM orders;
SELECT id, customer_id, sum(amount) OVER (PARTITION BY customer_id) FROM orders;
SELECT id, customer_id, sum(amount) OVER (PARTITION BY customer_id ORDER BY id) FROM orders;
SELECT id, customer_id, count(*) OVER (PARTITION BY customer_id), max(placed) OVER (PARTITION BY customer_id) FROM orders;
SELECT id, customer_id, lag(amount) OVER w, lead(id, 2) OVER w, first_value(id) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY id);
SELECT id, status, dense_rank() OVER (PARTITION BY status ORDER BY placed) FROM orders;
SELECT id, status, rank() OVER (PARTITION BY status ORDER BY amount NULLS FIRST) FROM orders;
SELECT id, status, count(*) OVER (PARTITION BY status) FROM orders;
SELECT id, row_number() OVER (ORDER BY id) FROM orders;
SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM orders;
SELECT id, avg(amount) OVER (ORDER BY placed RANGE BETWEEN interval '3 days' PRECEDING AND CURRENT ROW) FROM orders WHERE customer_id < 50;
SELECT id, ntile(4) OVER (ORDER BY id), round(percent_rank() OVER (ORDER BY id)::numeric, 6), round(cume_dist() OVER (ORDER BY id)::numeric, 6) FROM customers;
SELECT id, region, rank() OVER (PARTITION BY region ORDER BY tier NULLS LAST), last_value(id) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM customers;
SELECT key, ts, val, sum(val) OVER (PARTITION BY key ORDER BY ts, val, kind ROWS UNBOUNDED PRECEDING) FROM events WHERE val IS NOT NULL AND ts IS NOT NULL AND kind IS NOT NULL AND NOT (val BETWEEN 0 AND 9);
SELECT key, count(*) OVER (PARTITION BY key), rank() OVER (PARTITION BY kind ORDER BY key) FROM events;
SELECT order_id, line, sum(qty) OVER (PARTITION BY order_id), rank() OVER (PARTITION BY sku ORDER BY price NULLS LAST) FROM lineitems;
SELECT customer_id, sum(amount), rank() OVER (ORDER BY sum(amount) DESC NULLS LAST) FROM orders GROUP BY customer_id;
SELECT status, count(*), sum(count(*)) OVER () FROM orders GROUP BY status;
SELECT * FROM (SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST, id) AS rn FROM orders) s WHERE rn <= 2;
SELECT * FROM (SELECT id, region, rank() OVER (PARTITION BY region ORDER BY id DESC) AS r FROM customers) s WHERE r = 1;
ordered: SELECT id, customer_id, rank() OVER (PARTITION BY customer_id ORDER BY id) FROM orders WHERE customer_id IN (7, 8) ORDER BY customer_id, id LIMIT 20;
SELECT id, count(*) FILTER (WHERE status = 'paid') OVER (PARTITION BY customer_id) FROM orders;
SELECT id, nth_value(id, 3) OVER (PARTITION BY customer_id ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM orders;
SELECT id, min(amount) OVER (PARTITION BY customer_id % 3 ORDER BY amount NULLS FIRST GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM orders WHERE customer_id < 30;

-- ===== Colocated joins (customers/orders on the customer id) =====
SELECT c.id, c.name, o.id, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 7;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id IN (7, 8, 250);
SELECT c.region, count(*), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region;
SELECT c.id, count(o.id), sum(o.amount) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.amount > 170;
SELECT c.id, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE o.id IS NULL;
SELECT c.id, o.id, o.customer_id FROM customers c RIGHT JOIN orders o ON o.customer_id = c.id WHERE c.id IS NULL OR c.id < 3;
SELECT c.id, o.customer_id, o.id FROM customers c FULL JOIN orders o ON o.customer_id = c.id WHERE c.id IS NULL OR o.id IS NULL;
SELECT count(*), count(c.id), count(o.id) FROM customers c FULL JOIN orders o ON o.customer_id = c.id;
SELECT c.id, c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount < -19);
SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id);
SELECT c.id FROM customers c WHERE c.id IN (SELECT customer_id FROM orders WHERE status = 'cancelled' AND amount > 170);
SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT customer_id FROM orders);
SELECT o.id FROM orders o WHERE o.customer_id NOT IN (SELECT id FROM customers);
SELECT o.id FROM orders o WHERE o.customer_id IN (SELECT id FROM customers WHERE tier = 3) AND o.amount > 150;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id AND c.tier = 2 AND o.status = 'new';
SELECT c.id, o.id FROM customers c, orders o WHERE o.customer_id = c.id AND c.region = 'east' AND o.placed > date '2025-12-01';
SELECT c.id, o1.id, o2.id FROM customers c JOIN orders o1 ON o1.customer_id = c.id JOIN orders o2 ON o2.customer_id = c.id AND o2.id = o1.id + 250 WHERE c.id < 60;
SELECT o1.customer_id, count(*) FROM orders o1 JOIN orders o2 ON o1.customer_id = o2.customer_id AND o1.id < o2.id WHERE o1.customer_id <> 7 GROUP BY o1.customer_id;
SELECT c.id, max(o.placed) FROM customers c JOIN orders o USING (id) GROUP BY c.id;
SELECT * FROM customers c NATURAL JOIN (SELECT customer_id AS id, count(*) AS n FROM orders GROUP BY customer_id) s;
SELECT c.name, o.note FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.note LIKE '%' || c.id::text;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id OR o.customer_id = c.id + 1 WHERE c.id BETWEEN 40 AND 45;
ordered: SELECT c.id, c.name, o.id, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.amount DESC NULLS LAST, o.id LIMIT 10;
ordered: SELECT c.id, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY n, c.id LIMIT 60;

-- ===== Non-colocated joins =====
SELECT o.id, l.line, l.qty FROM orders o JOIN lineitems l ON l.order_id = o.id;
SELECT o.customer_id, sum(l.qty * l.price) FROM orders o JOIN lineitems l ON l.order_id = o.id GROUP BY o.customer_id;
SELECT o.id, count(l.line) FROM orders o LEFT JOIN lineitems l ON l.order_id = o.id GROUP BY o.id;
SELECT l.order_id, l.line, o.id FROM lineitems l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL;
SELECT o.id, l.order_id FROM orders o FULL JOIN lineitems l ON l.order_id = o.id WHERE o.id IS NULL OR l.order_id IS NULL;
SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM lineitems l WHERE l.order_id = o.id AND l.qty = 5);
SELECT o.id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lineitems l WHERE l.order_id = o.id) AND o.customer_id = 7;
SELECT o.id FROM orders o WHERE o.id IN (SELECT order_id FROM lineitems WHERE sku = 'SKU-007');
SELECT o.id FROM orders o WHERE o.id NOT IN (SELECT order_id FROM lineitems) AND o.customer_id < 20;
SELECT c.id, e.key, e.val FROM customers c JOIN events e ON e.key = 'k' || c.id WHERE c.id < 20;
SELECT c.tier, l.qty, count(*) FROM customers c JOIN lineitems l ON l.qty = c.tier GROUP BY c.tier, l.qty;
SELECT c.id, count(e.*) FROM customers c LEFT JOIN events e ON e.val = c.id GROUP BY c.id;
SELECT e.key, o.id FROM events e JOIN orders o ON o.id = e.val WHERE e.kind = 'buy';
SELECT c.region, l.sku, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id JOIN lineitems l ON l.order_id = o.id WHERE c.id < 30 GROUP BY c.region, l.sku;
SELECT c.id, o.id, l.line FROM customers c JOIN orders o ON o.customer_id = c.id LEFT JOIN lineitems l ON l.order_id = o.id AND l.line = 1 WHERE c.id = 7 AND o.id < 1520;
SELECT l1.order_id, l1.line, l2.line FROM lineitems l1 JOIN lineitems l2 ON l1.order_id = l2.order_id AND l1.line < l2.line WHERE l1.order_id < 100;
SELECT e1.key, e2.key FROM events e1 JOIN events e2 ON e1.val = e2.val AND e1.key < e2.key WHERE e1.val > 145;
SELECT c.id, o.id FROM customers c JOIN orders o ON o.id = c.id;
SELECT c.id, o.id FROM customers c CROSS JOIN orders o WHERE c.id < 3 AND o.id < 4;
ordered: SELECT o.id, l.line, l.price FROM orders o JOIN lineitems l ON l.order_id = o.id ORDER BY l.price DESC NULLS LAST, o.id, l.line LIMIT 10;
ordered: SELECT o.customer_id, count(DISTINCT l.sku) FROM orders o JOIN lineitems l ON l.order_id = o.id GROUP BY o.customer_id ORDER BY 2 DESC, 1 LIMIT 10;

-- ===== Reference and local tables =====
SELECT c.id, r.manager FROM customers c JOIN regions r ON r.name = c.region;
SELECT c.id, r.manager FROM customers c LEFT JOIN regions r ON r.name = c.region WHERE r.name IS NULL;
SELECT r.name, count(c.id) FROM regions r LEFT JOIN customers c ON c.region = r.name GROUP BY r.name;
SELECT r.name, c.id FROM regions r FULL JOIN customers c ON c.region = r.name WHERE c.id IS NULL OR r.name IS NULL;
SELECT r.manager, sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id JOIN regions r ON r.name = c.region GROUP BY r.manager;
SELECT c.id FROM customers c WHERE c.region IN (SELECT name FROM regions WHERE manager IS NOT NULL) AND c.id < 50;
SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.name = c.region);
SELECT r.name FROM regions r WHERE EXISTS (SELECT 1 FROM customers c WHERE c.region = r.name AND c.tier = 3);
SELECT r.name, (SELECT count(*) FROM customers c WHERE c.region = r.name) FROM regions r;
SELECT o.id, o.placed FROM orders o JOIN holidays h ON h.d = o.placed;
SELECT h.d, count(o.id) FROM holidays h LEFT JOIN orders o ON o.placed = h.d GROUP BY h.d;
SELECT o.id FROM orders o WHERE o.placed IN (SELECT d FROM holidays) AND o.customer_id = 7;
SELECT o.id FROM orders o WHERE o.placed NOT IN (SELECT d FROM holidays WHERE d IS NOT NULL) AND o.customer_id = 12;
SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM holidays h WHERE h.d = o.placed);
SELECT h.d, o.id FROM orders o RIGHT JOIN holidays h ON h.d = o.placed AND o.customer_id = 7;
SELECT c.created, h.d FROM customers c JOIN holidays h ON h.d = c.created;
SELECT r.name, h.d FROM regions r CROSS JOIN holidays h WHERE h.d < date '2025-02-01';
SELECT r.manager, h.d, count(o.id) FROM orders o JOIN customers c ON c.id = o.customer_id JOIN regions r ON r.name = c.region JOIN holidays h ON h.d = o.placed GROUP BY r.manager, h.d;
ordered: SELECT r.name, count(c.id) FROM regions r LEFT JOIN customers c ON c.region = r.name GROUP BY r.name ORDER BY r.name;

-- ===== Subqueries =====
SELECT id, amount FROM orders WHERE amount > (SELECT avg(amount) FROM orders) AND customer_id < 30;
SELECT id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) FROM customers c;
SELECT id, (SELECT max(amount) FROM orders o WHERE o.customer_id = c.id AND o.status = 'paid') FROM customers c WHERE c.id < 100;
SELECT id FROM orders o WHERE amount > (SELECT avg(amount) FROM orders i WHERE i.customer_id = o.customer_id);
SELECT id FROM orders o WHERE amount = (SELECT max(amount) FROM orders i WHERE i.customer_id = o.customer_id);
SELECT id, (SELECT name FROM customers c WHERE c.id = o.customer_id) FROM orders o WHERE o.id < 100;
SELECT id, (SELECT sum(qty) FROM lineitems l WHERE l.order_id = o.id) FROM orders o WHERE o.customer_id IN (7, 9);
SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), (SELECT count(*) FROM lineitems);
SELECT * FROM (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) s WHERE n > 9;
SELECT s.region, avg(s.n) FROM (SELECT c.region, c.id, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.region, c.id) s GROUP BY s.region;
SELECT * FROM customers WHERE id = (SELECT min(customer_id) FROM orders WHERE amount > 179);
SELECT * FROM customers WHERE id = (SELECT customer_id FROM orders WHERE id = 1501);
SELECT id FROM customers WHERE tier = ANY (SELECT qty FROM lineitems WHERE order_id = 10);
SELECT id FROM customers WHERE tier > ALL (SELECT qty FROM lineitems WHERE order_id = 10 AND qty IS NOT NULL);
SELECT id FROM orders WHERE amount > ALL (SELECT amount FROM orders WHERE customer_id = 7 AND amount IS NOT NULL);
SELECT c.id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) = 0;
SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND EXISTS (SELECT 1 FROM lineitems l WHERE l.order_id = o.id AND l.qty < 0));
SELECT c.id FROM customers c WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.id IN (SELECT l.order_id FROM lineitems l WHERE l.price > 49));
SELECT key FROM events e WHERE val > (SELECT avg(val) FROM events e2 WHERE e2.key = e.key) AND key < 'k12';
SELECT id FROM orders WHERE (customer_id, placed) IN (SELECT id, created FROM customers);
SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE region IS NULL) AND status IS NULL;
SELECT 1 / (SELECT count(*) FROM customers WHERE id > 1000);
SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount IS NOT NULL) AND c.id <= 250;
SELECT ARRAY(SELECT id FROM orders o WHERE o.customer_id = c.id ORDER BY id) FROM customers c WHERE c.id < 20;

-- ===== CTEs =====
WITH big AS (SELECT customer_id, sum(amount) AS s FROM orders GROUP BY customer_id) SELECT * FROM big WHERE s > (SELECT avg(s) FROM big);
WITH c AS (SELECT * FROM customers WHERE tier = 3) SELECT c.id, count(o.id) FROM c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
WITH o AS MATERIALIZED (SELECT * FROM orders WHERE amount < 0) SELECT status, count(*) FROM o GROUP BY status;
WITH o AS NOT MATERIALIZED (SELECT * FROM orders WHERE amount < 0) SELECT status, count(*) FROM o GROUP BY status;
WITH a AS (SELECT id FROM customers WHERE region = 'north'), b AS (SELECT customer_id FROM orders WHERE status = 'paid') SELECT a.id, count(*) FROM a JOIN b ON b.customer_id = a.id GROUP BY a.id;
WITH l AS (SELECT order_id, sum(qty) AS q FROM lineitems GROUP BY order_id) SELECT o.customer_id, sum(l.q) FROM orders o JOIN l ON l.order_id = o.id GROUP BY o.customer_id;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT n.i, count(o.id) FROM n LEFT JOIN orders o ON o.customer_id = n.i GROUP BY n.i;
WITH RECURSIVE chain(id, depth) AS (SELECT min(id), 0 FROM orders WHERE customer_id = 7 UNION ALL SELECT (SELECT min(o.id) FROM orders o WHERE o.customer_id = 7 AND o.id > chain.id), depth + 1 FROM chain WHERE depth < 15) SELECT * FROM chain;
WITH RECURSIVE r(d) AS (SELECT min(d) FROM holidays UNION ALL SELECT d + 11 FROM r WHERE d < date '2025-04-01') SELECT r.d, count(o.id) FROM r LEFT JOIN orders o ON o.placed = r.d GROUP BY r.d;
WITH RECURSIVE t(k, n) AS (SELECT key, 1 FROM events WHERE key = 'k1' GROUP BY key UNION ALL SELECT 'k' || (substr(k, 2)::int + 1), n + 1 FROM t WHERE n < 5) SELECT t.k, count(e.*) FROM t JOIN events e ON e.key = t.k GROUP BY t.k;
WITH x AS (SELECT id, amount FROM orders WHERE customer_id = 7) SELECT count(*), sum(amount) FROM x WHERE amount > 0;
WITH x AS (SELECT region, count(*) AS n FROM customers GROUP BY region) SELECT x.region, x.n, r.manager FROM x FULL JOIN regions r ON r.name = x.region;
ordered: WITH ranked AS (SELECT id, customer_id, amount, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC NULLS LAST) AS r FROM orders) SELECT customer_id, id, amount FROM ranked WHERE r = 1 ORDER BY customer_id, id LIMIT 30;

-- ===== Set operations =====
SELECT id FROM customers WHERE tier = 1 UNION SELECT customer_id FROM orders WHERE amount < -19;
SELECT id FROM customers WHERE tier = 1 UNION ALL SELECT customer_id FROM orders WHERE amount < -19;
SELECT customer_id FROM orders INTERSECT SELECT id FROM customers WHERE region = 'east';
SELECT customer_id FROM orders INTERSECT ALL SELECT id FROM customers;
SELECT id FROM customers EXCEPT SELECT customer_id FROM orders;
SELECT customer_id FROM orders EXCEPT ALL SELECT id FROM customers;
SELECT customer_id FROM orders WHERE status = 'paid' EXCEPT ALL SELECT customer_id FROM orders WHERE status = 'new';
SELECT region FROM customers UNION SELECT name FROM regions;
SELECT region FROM customers INTERSECT SELECT name FROM regions;
SELECT name FROM regions EXCEPT SELECT region FROM customers;
SELECT placed FROM orders WHERE customer_id = 7 INTERSECT SELECT d FROM holidays;
SELECT d FROM holidays EXCEPT SELECT placed FROM orders;
SELECT key FROM events UNION SELECT 'k' || id FROM customers WHERE id < 70;
SELECT order_id FROM lineitems EXCEPT SELECT id FROM orders;
SELECT id, 'customer' FROM customers WHERE id < 5 UNION ALL SELECT id, 'order' FROM orders WHERE id < 5 UNION ALL SELECT order_id, 'line' FROM lineitems WHERE order_id < 5;
(SELECT id FROM customers WHERE tier = 0 EXCEPT SELECT customer_id FROM orders WHERE status = 'paid') UNION SELECT 1000;
SELECT status, count(*) FROM (SELECT status FROM orders WHERE customer_id = 7 UNION ALL SELECT status FROM orders WHERE customer_id = 8) u GROUP BY status;
ordered: SELECT id FROM customers WHERE id < 10 UNION SELECT customer_id FROM orders WHERE customer_id > 240 ORDER BY 1;
ordered: SELECT id FROM customers UNION ALL SELECT customer_id FROM orders ORDER BY 1 DESC LIMIT 20;
ordered: (SELECT customer_id FROM orders INTERSECT SELECT id FROM customers) ORDER BY 1 LIMIT 10 OFFSET 10;
SELECT customer_id FROM orders WHERE false UNION SELECT id FROM customers WHERE false;

-- ===== LATERAL, VALUES, generate_series =====
SELECT c.id, x.top FROM customers c, LATERAL (SELECT max(amount) AS top FROM orders o WHERE o.customer_id = c.id) x;
SELECT c.id, x.id, x.amount FROM customers c CROSS JOIN LATERAL (SELECT id, amount FROM orders o WHERE o.customer_id = c.id ORDER BY amount DESC NULLS LAST, id LIMIT 2) x WHERE c.id < 40;
SELECT c.id, x.n FROM customers c LEFT JOIN LATERAL (SELECT count(*) AS n FROM orders o WHERE o.customer_id = c.id AND o.amount > 100) x ON true;
SELECT o.id, x.total FROM orders o, LATERAL (SELECT sum(qty * price) AS total FROM lineitems l WHERE l.order_id = o.id) x WHERE o.customer_id = 7;
SELECT r.name, x.id FROM regions r LEFT JOIN LATERAL (SELECT id FROM customers c WHERE c.region = r.name ORDER BY id LIMIT 3) x ON true;
SELECT c.id, u.v FROM customers c, LATERAL unnest(ARRAY[c.id, c.tier]) AS u(v) WHERE c.id < 10;
SELECT v.k, count(e.*) FROM (VALUES ('k1'), ('k2'), ('k99'), (NULL)) v(k) LEFT JOIN events e ON e.key = v.k GROUP BY v.k;
SELECT v.id, v.label, c.name FROM (VALUES (1, 'one'), (7, 'seven'), (999, 'none')) v(id, label) LEFT JOIN customers c ON c.id = v.id;
SELECT * FROM orders o JOIN (VALUES (7, 'hot'), (8, 'warm')) v(cid, heat) ON v.cid = o.customer_id WHERE o.amount > 170;
SELECT o.customer_id, count(*) FROM orders o WHERE o.customer_id IN (VALUES (1), (2), (3)) GROUP BY o.customer_id;
SELECT g, count(o.id) FROM generate_series(1, 12) g LEFT JOIN orders o ON o.customer_id = g GROUP BY g;
SELECT d::date, count(o.id) FROM generate_series(date '2025-01-01', date '2025-01-31', interval '1 day') d LEFT JOIN orders o ON o.placed = d::date GROUP BY d;
SELECT g, c.name FROM generate_series(-6, 2) g JOIN customers c ON c.id = g;
SELECT g, e.key FROM generate_series(55, 62) g LEFT JOIN events e ON e.key = 'k' || g AND e.val = 100;
SELECT c.id, g FROM customers c, generate_series(1, c.tier) g WHERE c.id < 20;
SELECT * FROM (VALUES (1), (2)) v(x) WHERE EXISTS (SELECT 1 FROM customers WHERE id = v.x);
SELECT x FROM unnest(ARRAY[1, 7, 300, 301]) x WHERE x IN (SELECT customer_id FROM orders);

-- ===== Mixed shapes =====
SELECT c.region, o.status, count(*), sum(o.amount), round(avg(l.qty), 4) FROM customers c JOIN orders o ON o.customer_id = c.id LEFT JOIN lineitems l ON l.order_id = o.id GROUP BY c.region, o.status;
SELECT c.tier, count(DISTINCT o.customer_id), count(DISTINCT o.status) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.tier HAVING count(*) > 10;
SELECT extract(month FROM o.placed) AS m, r.manager, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id LEFT JOIN regions r ON r.name = c.region GROUP BY m, r.manager;
SELECT CASE WHEN o.amount IS NULL THEN 'null' WHEN o.amount < 0 THEN 'neg' ELSE 'pos' END AS k, count(*), min(o.id) FROM orders o GROUP BY 1;
SELECT customer_id, string_agg(coalesce(note, '?'), ',' ORDER BY coalesce(note, '?')) FROM orders WHERE customer_id BETWEEN 20 AND 25 GROUP BY customer_id;
SELECT c.id, c.name, sum(o.amount) FILTER (WHERE o.placed < date '2025-06-01') AS h1, sum(o.amount) FILTER (WHERE o.placed >= date '2025-06-01') AS h2 FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
SELECT e.kind, date_trunc('week', e.ts), count(*), sum(e.val) FROM events e WHERE e.ts IS NOT NULL GROUP BY 1, 2 HAVING sum(e.val) > 300;
SELECT o.status, count(*) FROM orders o WHERE o.customer_id IN (SELECT c.id FROM customers c JOIN regions r ON r.name = c.region WHERE r.manager = 'bob') GROUP BY o.status;
SELECT count(*) FROM (SELECT DISTINCT o.customer_id, l.sku FROM orders o JOIN lineitems l ON l.order_id = o.id) s;
SELECT s.n, count(*) FROM (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) s GROUP BY s.n;
SELECT max(n), min(n), round(avg(n), 4) FROM (SELECT order_id, count(*) AS n FROM lineitems GROUP BY order_id) s;
SELECT o.id, o.amount, o.amount - avg(o.amount) OVER (PARTITION BY o.customer_id) FROM orders o WHERE o.customer_id IN (7, 30, 31);
SELECT c.id FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(*) = (SELECT max(n) FROM (SELECT count(*) AS n FROM orders GROUP BY customer_id) s);
SELECT name, count(*) FROM customers GROUP BY name HAVING count(*) > 1;
SELECT note, status, count(*) FROM orders GROUP BY note, status HAVING count(*) > 12;
SELECT o.id, l.line, c.name, r.manager, h.d FROM orders o JOIN lineitems l ON l.order_id = o.id JOIN customers c ON c.id = o.customer_id LEFT JOIN regions r ON r.name = c.region LEFT JOIN holidays h ON h.d = o.placed WHERE o.customer_id = 7 AND l.qty = 5;
SELECT c.id, bool_and(l.qty > 0), count(*) FROM customers c JOIN orders o ON o.customer_id = c.id JOIN lineitems l ON l.order_id = o.id GROUP BY c.id;
SELECT coalesce(c.region, r.name), count(*) FROM customers c FULL JOIN regions r ON r.name = c.region GROUP BY 1;
SELECT o.customer_id, o.id FROM orders o WHERE o.amount IS NOT NULL AND o.amount::int % 17 = 0 AND o.note IS NOT NULL AND o.note <> '';
SELECT count(*) FROM orders o, customers c WHERE o.customer_id = c.id AND c.created < o.placed - 1500;
SELECT id, amount FROM orders WHERE amount::text LIKE '%.00';
SELECT count(*) FROM events WHERE key::text = 'k' || (val % 60)::text;
SELECT c.id, (SELECT string_agg(o.status, ',' ORDER BY o.status) FROM orders o WHERE o.customer_id = c.id AND o.status IS NOT NULL) FROM customers c WHERE c.id BETWEEN 1 AND 15;
ordered: SELECT c.id, c.name, coalesce(sum(o.amount), 0) AS total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY total DESC, c.id LIMIT 20;
ordered: SELECT o.status, c.region, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY o.status, c.region ORDER BY o.status NULLS FIRST, c.region NULLS FIRST;

-- ===== Errors (same SQLSTATE expected on both sides; kept rare) =====
SELECT id / 0 FROM customers WHERE id = 1;
SELECT amount / (customer_id - 7) FROM orders;
SELECT (note)::int FROM orders WHERE note IS NOT NULL;
SELECT no_such_column FROM orders;
