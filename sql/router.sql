-- Router queries on the test fixture (docs/testing.md): this server is
-- 127.0.0.1:25431; 25432 and 25433 run PhantomDB. Every statement here
-- touches one shard (or reference tables) and runs on the node holding it.
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');

CREATE TABLE accounts (aid bigint PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL DEFAULT 0, note text);
INSERT INTO accounts SELECT g, g % 4, g * 10, 'acct ' || g FROM generate_series(1, 200) g;
-- The same statements on a local copy must give the same rows.
CREATE TABLE accounts_local (LIKE accounts INCLUDING ALL);
INSERT INTO accounts_local SELECT * FROM accounts;
SELECT phantom_create_distributed_table('accounts', 'aid', 6);
CREATE TABLE history (aid bigint, delta int, at int);
SELECT phantom_create_distributed_table('history', 'aid', 6, colocate_with => 'accounts');
CREATE TABLE branches (bid int PRIMARY KEY, name text);
INSERT INTO branches SELECT g, 'branch ' || g FROM generate_series(0, 3) g;
SELECT phantom_create_reference_table('branches');

-- Reads: equality, IN within one shard, expressions, cross-width integers.
SELECT * FROM accounts WHERE aid = 7;
SELECT * FROM accounts WHERE aid = 3 + 4;
SELECT * FROM accounts WHERE 7::int = aid;
SELECT aid, abalance FROM accounts WHERE aid IN (7) AND abalance > 0;
SELECT count(*), sum(abalance) FROM accounts WHERE aid = 7;
SELECT * FROM accounts WHERE aid = 7 AND bid = 2;
SELECT * FROM accounts WHERE aid = NULL;
SELECT * FROM accounts WHERE aid = 100000;
SELECT note FROM accounts WHERE aid = 8 ORDER BY note LIMIT 1;
SELECT * FROM accounts WHERE aid = 9 FOR UPDATE;

-- Writes, with RETURNING, ON CONFLICT and multi-row INSERT split per shard.
INSERT INTO accounts (aid, bid) VALUES (1001, 1) RETURNING *;
INSERT INTO accounts VALUES (1002, 2, 5, 'two'), (1003, 3, 5, 'three'), (1004, 0, 5, 'four'), (1005, 1, 5, 'five')
  RETURNING aid, note;
-- RETURNING gives the rows in the order they were written, shards apart.
INSERT INTO accounts (aid, bid) VALUES (4001, 1), (4002, 1), (4003, 1), (4004, 1), (4005, 1), (4006, 1)
  RETURNING aid;
INSERT INTO accounts_local (aid, bid) VALUES (4001, 1), (4002, 1), (4003, 1), (4004, 1), (4005, 1), (4006, 1);
INSERT INTO accounts_local (aid, bid) VALUES (1001, 1);
INSERT INTO accounts_local VALUES (1002, 2, 5, 'two'), (1003, 3, 5, 'three'), (1004, 0, 5, 'four'), (1005, 1, 5, 'five');
INSERT INTO accounts VALUES (7, 3, 0, 'dup');
INSERT INTO accounts VALUES (7, 3, 0, 'upserted') ON CONFLICT (aid) DO UPDATE SET note = EXCLUDED.note RETURNING aid, note;
INSERT INTO accounts_local VALUES (7, 3, 0, 'upserted') ON CONFLICT (aid) DO UPDATE SET note = EXCLUDED.note;
INSERT INTO accounts VALUES (8, 0, 0, 'ignored') ON CONFLICT DO NOTHING;
UPDATE accounts SET abalance = abalance + 1 WHERE aid = 11 RETURNING aid, abalance;
UPDATE accounts_local SET abalance = abalance + 1 WHERE aid = 11;
UPDATE accounts SET abalance = abalance + 1 WHERE aid = 11 AND bid = 99;
DELETE FROM accounts WHERE aid = 12 RETURNING aid;
DELETE FROM accounts_local WHERE aid = 12;
INSERT INTO accounts (aid, bid) VALUES (NULL, 1);
UPDATE accounts SET aid = 13 WHERE aid = 14;

-- Joins: colocated on the distribution column, and with reference tables.
INSERT INTO history VALUES (7, 5, 1), (7, -2, 2), (9, 1, 3);
SELECT a.aid, h.delta FROM accounts a JOIN history h ON h.aid = a.aid WHERE a.aid = 7 ORDER BY h.at;
SELECT a.aid, h.delta FROM accounts a JOIN history h USING (aid) WHERE h.aid = 9;
SELECT a.aid, count(h.delta) FROM accounts a LEFT JOIN history h ON h.aid = a.aid WHERE a.aid = 8 GROUP BY a.aid;
SELECT a.aid, b.name FROM accounts a JOIN branches b ON b.bid = a.bid WHERE a.aid = 10;
SELECT name FROM branches WHERE bid = 2;
SELECT count(*) FROM branches;
UPDATE branches SET name = 'main' WHERE bid = 0;
SELECT * FROM branches ORDER BY bid;
UPDATE accounts SET abalance = 0 FROM branches b WHERE accounts.aid = 15 AND b.bid = accounts.bid AND b.name = 'main';

-- Prepared statements prune at execution, so generic plans route too.
SET plan_cache_mode = force_generic_plan;
PREPARE get(bigint) AS SELECT aid, abalance, note FROM accounts WHERE aid = $1;
EXECUTE get(7);
EXECUTE get(16);
EXECUTE get(NULL);
PREPARE bump(int, bigint) AS UPDATE accounts SET abalance = abalance + $1 WHERE aid = $2 RETURNING abalance;
EXECUTE bump(5, 16);
EXECUTE bump(5, 16);
UPDATE accounts_local SET abalance = abalance + 10 WHERE aid = 16;
PREPARE put(bigint, int) AS INSERT INTO accounts (aid, bid) VALUES ($1, $2), ($1 + 1, $2);
EXECUTE put(2001, 1);
INSERT INTO accounts_local (aid, bid) VALUES (2001, 1), (2002, 1);
PREPARE several(bigint[]) AS SELECT aid FROM accounts WHERE aid = ANY ($1);
EXECUTE several(ARRAY[17]);
EXECUTE several(ARRAY[17, 18, 19, 20, 21, 22, 23]);
-- With ORDER BY the rows cannot simply follow each other: the statement
-- takes the general fallback, which sorts them here.
PREPARE several_sorted(bigint[]) AS SELECT aid FROM accounts WHERE aid = ANY ($1) ORDER BY aid DESC;
EXECUTE several_sorted(ARRAY[17, 18, 19, 20, 21, 22, 23]);
EXPLAIN (COSTS OFF) EXECUTE several_sorted(ARRAY[17, 18]);
RESET plan_cache_mode;

-- A transaction reads its own writes on every node and rolls back everywhere.
BEGIN;
INSERT INTO accounts VALUES (3001, 1, 1, 'in txn');
SELECT note FROM accounts WHERE aid = 3001;
UPDATE accounts SET note = 'changed' WHERE aid = 3001;
SELECT note FROM accounts WHERE aid = 3001;
ROLLBACK;
SELECT count(*) FROM accounts WHERE aid = 3001;
BEGIN;
INSERT INTO accounts VALUES (3002, 1, 1, 'kept');
INSERT INTO accounts VALUES (3003, 1, 1, 'kept');
COMMIT;
INSERT INTO accounts_local VALUES (3002, 1, 1, 'kept'), (3003, 1, 1, 'kept');
SELECT aid, note FROM accounts WHERE aid IN (3002);
SELECT aid, note FROM accounts WHERE aid IN (3003);
-- ROLLBACK TO SAVEPOINT undoes work on every node since the savepoint and
-- keeps what came before it; a failed statement inside a savepoint leaves
-- the transaction usable after ROLLBACK TO.
BEGIN;
UPDATE accounts SET note = 'x' WHERE aid = 1;
SAVEPOINT s;
UPDATE accounts SET note = 'x' WHERE aid = 2;
UPDATE accounts SET note = 'x' WHERE aid = 3;
UPDATE accounts SET note = 'x' WHERE aid = 4;
ROLLBACK TO SAVEPOINT s;
SELECT aid, note FROM accounts WHERE aid IN (1, 2, 3, 4) ORDER BY aid;
SAVEPOINT t;
UPDATE accounts SET note = 'y' WHERE aid = 2;
SAVEPOINT u;
INSERT INTO accounts VALUES (3, 1, 1, 'duplicate key');
ROLLBACK TO SAVEPOINT u;
UPDATE accounts SET note = 'z' WHERE aid = 3;
SAVEPOINT v;
INSERT INTO accounts VALUES (1, 1, 1, 'duplicate key on another node');
ROLLBACK TO SAVEPOINT v;
UPDATE accounts SET note = 'w' WHERE aid = 1;
RELEASE SAVEPOINT t;
COMMIT;
SELECT aid, note FROM accounts WHERE aid IN (1, 2, 3, 4) ORDER BY aid;
UPDATE accounts_local SET note = 'w' WHERE aid = 1;
UPDATE accounts_local SET note = 'y' WHERE aid = 2;
UPDATE accounts_local SET note = 'z' WHERE aid = 3;

-- Reads need no undoing: a ROLLBACK TO after them leaves the transaction usable.
BEGIN;
SELECT note FROM accounts WHERE aid = 2;
SAVEPOINT s;
SELECT note FROM accounts WHERE aid = 3;
SELECT count(*) FROM accounts;
ROLLBACK TO SAVEPOINT s;
UPDATE accounts SET note = 'after savepoint' WHERE aid = 3;
COMMIT;
SELECT note FROM accounts WHERE aid = 3;
UPDATE accounts_local SET note = 'after savepoint' WHERE aid = 3;

-- The same rows as the local copy, key by key.
DO $$
DECLARE
  k bigint;
  a text;
  b text;
  differing int := 0;
BEGIN
  FOR k IN SELECT generate_series(0, 3005) LOOP
    SELECT string_agg(t::text, ';') INTO a FROM accounts t WHERE aid = k;
    SELECT string_agg(t::text, ';') INTO b FROM accounts_local t WHERE aid = k;
    IF a IS DISTINCT FROM b THEN
      RAISE NOTICE 'key % differs: % vs %', k, a, b;
      differing := differing + 1;
    END IF;
  END LOOP;
  RAISE NOTICE '% differing keys', differing;
END $$;

-- EXPLAIN shows the shard, the node and the SQL it runs.
EXPLAIN (COSTS OFF) SELECT * FROM accounts WHERE aid = 7;
EXPLAIN (COSTS OFF) UPDATE accounts SET abalance = 1 WHERE aid = 7;
EXPLAIN (COSTS OFF) SELECT * FROM branches;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM accounts WHERE aid = 7;

-- What the router cannot run on one shard: a SELECT goes through the
-- general fallback (fallback.sql tests it against local copies); writes
-- over several shards are refused, never run on the empty shell.
SELECT count(*), sum(abalance) FROM accounts;
SELECT count(*), sum(abalance) FROM accounts_local;
SELECT aid FROM accounts WHERE aid = 1 OR aid = 2 ORDER BY aid;
SELECT aid FROM accounts WHERE aid IN (1, 2, 3, 4, 5, 6, 7, 8) ORDER BY aid;
SELECT a.aid, h.delta FROM accounts a JOIN history h ON h.aid = a.aid ORDER BY a.aid, h.at;
SELECT aid FROM accounts WHERE aid = (SELECT max(aid) FROM accounts_local);
SELECT l.aid FROM accounts_local l JOIN accounts a USING (aid) WHERE a.aid = 1;
WITH x AS (SELECT * FROM accounts WHERE aid = 1) SELECT aid FROM x;
-- UPDATE and DELETE of one distributed table run on every shard they
-- touch (with subqueries over reference tables too).
UPDATE accounts SET abalance = abalance + 1 WHERE bid = 1;
UPDATE accounts_local SET abalance = abalance + 1 WHERE bid = 1;
UPDATE accounts SET note = 'main branch' WHERE bid IN (SELECT bid FROM branches WHERE name = 'main');
UPDATE accounts_local SET note = 'main branch' WHERE bid = 0;
DELETE FROM accounts WHERE abalance > 1900;
DELETE FROM accounts_local WHERE abalance > 1900;
DELETE FROM accounts WHERE aid IN (3, 4, 5, 6) RETURNING aid;
DELETE FROM accounts_local WHERE aid IN (3, 4, 5, 6);
-- Colocated tables joined on the distribution column: shard by shard too.
UPDATE accounts a SET abalance = 0 FROM history h WHERE h.aid = a.aid AND h.delta > 0;
UPDATE accounts_local SET abalance = 0 WHERE aid IN (7, 9);
EXPLAIN (COSTS OFF) DELETE FROM accounts WHERE bid = 2;
SELECT (SELECT count(*) FROM ((SELECT * FROM accounts EXCEPT ALL SELECT * FROM accounts_local)
                              UNION ALL (SELECT * FROM accounts_local EXCEPT ALL SELECT * FROM accounts)) d) AS differing,
       (SELECT count(*) FROM accounts) AS remaining;
-- INSERT ... SELECT: the SELECT runs here, its rows go to their shards.
INSERT INTO accounts (aid, bid, note) SELECT aid + 5000, bid, 'copied' FROM accounts_local WHERE aid <= 40;
INSERT INTO accounts_local (aid, bid, note) SELECT aid + 5000, bid, 'copied' FROM accounts_local WHERE aid <= 40;
INSERT INTO accounts (aid, bid) SELECT aid + 6000, bid FROM accounts WHERE aid IN (7, 8, 9) RETURNING aid, abalance;
INSERT INTO accounts_local (aid, bid) SELECT aid + 6000, bid FROM accounts_local WHERE aid IN (7, 8, 9);
-- Selected columns coerced to the target's types (int to bigint, numeric
-- to int) in the INSERT's target list.
INSERT INTO accounts (aid, bid, abalance) SELECT g, 1, g / 4.0 FROM generate_series(8001, 8003) g RETURNING aid, abalance;
INSERT INTO accounts_local (aid, bid, abalance) SELECT g, 1, g / 4.0 FROM generate_series(8001, 8003) g;
SELECT (SELECT count(*) FROM ((SELECT * FROM accounts EXCEPT ALL SELECT * FROM accounts_local)
                              UNION ALL (SELECT * FROM accounts_local EXCEPT ALL SELECT * FROM accounts)) d) AS differing,
       (SELECT count(*) FROM accounts) AS rows;
INSERT INTO accounts SELECT * FROM accounts_local WHERE aid = 1;
EXPLAIN (COSTS OFF) INSERT INTO accounts (aid, bid) SELECT aid + 7000, bid FROM accounts_local;
-- And rows of distributed tables into a local one.
CREATE TABLE copied_here (aid bigint, note text);
INSERT INTO copied_here SELECT aid, note FROM accounts WHERE note = 'copied';
SELECT count(*) FROM copied_here;
DROP TABLE copied_here;
-- Still refused.
UPDATE accounts a SET abalance = 0 FROM history h WHERE h.delta = a.abalance;
WITH src AS (SELECT 1) INSERT INTO accounts (aid, bid) SELECT 9999, 1 FROM src;
UPDATE accounts SET note = 'x' WHERE bid IN (SELECT aid FROM history);
UPDATE branches SET name = 'x' || random() WHERE bid = 1;

DROP TABLE accounts, history, branches, accounts_local;
SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
DROP EXTENSION phantomdb;
