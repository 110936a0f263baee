-- Distributed transactions (docs/transactions.md): atomic commit across
-- nodes, savepoints, recovery and its SQL surface, on the fixture of
-- docs/testing.md: this server is 127.0.0.1:25431, 25432 and 25433 run
-- PhantomDB.
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432);
SELECT phantom_add_node('127.0.0.1', 25433);

CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0));
SELECT phantom_create_distributed_table('accounts', 'id', 8);
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 40) g;
CREATE TABLE settings (name text PRIMARY KEY, value text);
SELECT phantom_create_reference_table('settings');

-- A key on each node, found through the catalog.
SELECT min(g) FILTER (WHERE node = '127.0.0.1:25431') AS k1,
       min(g) FILTER (WHERE node = '127.0.0.1:25432') AS k2,
       min(g) FILTER (WHERE node = '127.0.0.1:25433') AS k3
  FROM generate_series(1, 40) g
  JOIN phantom_shards s ON s.shard_id = phantom_shard_for_value('accounts', g) \gset
CREATE FUNCTION balances() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(id || '=' || balance, ' ' ORDER BY id) FROM accounts WHERE balance <> 100
$$;
CREATE FUNCTION in_doubt() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM phantom_dist_transactions WHERE state = 'in doubt'
$$;

-- Writes on two other nodes commit together.
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = :k2;
UPDATE accounts SET balance = balance + 10 WHERE id = :k3;
SELECT role, state, array_length(participants, 1) AS nodes FROM phantom_dist_transactions WHERE pid = pg_backend_pid();
COMMIT;
SELECT balances();
-- ... and roll back together.
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = :k2;
UPDATE accounts SET balance = balance + 10 WHERE id = :k3;
ROLLBACK;
SELECT balances();
-- A failure on one node while committing (a deferred unique constraint,
-- checked by PREPARE TRANSACTION there) rolls back every node.
CREATE TABLE transfers (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, amount int);
SELECT phantom_create_distributed_table('transfers', 'id', 8, colocate_with => 'accounts');
INSERT INTO transfers VALUES (:k3, 1);
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = :k2;
INSERT INTO transfers VALUES (:k3, 2);
COMMIT;
SELECT balances(), (SELECT count(*) FROM transfers) AS transfers;
-- Writes here and on one other node: two-phase as well.
BEGIN;
UPDATE accounts SET balance = balance - 5 WHERE id = :k1;
UPDATE accounts SET balance = balance + 5 WHERE id = :k2;
COMMIT;
SELECT balances();
-- A reference table's copies commit together, with the statement.
INSERT INTO settings VALUES ('mode', 'on');
SELECT phantom_shard_for_value('settings', 'mode'::text) IS NOT NULL AS reference;

-- Savepoints: ROLLBACK TO undoes the same work on every node.
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = :k2;
SAVEPOINT a;
UPDATE accounts SET balance = balance + 1 WHERE id = :k3;
UPDATE accounts SET balance = balance + 1 WHERE id = :k2;
ROLLBACK TO SAVEPOINT a;
UPDATE accounts SET balance = balance + 2 WHERE id = :k3;
COMMIT;
SELECT balances();
-- A statement that fails on a node inside a PL/pgSQL exception block
-- undoes the block's work on every node; what came before it stays. Outside
-- a transaction block, too: the DO block is one transaction.
SELECT set_config('test.k2', :'k2', false), set_config('test.k3', :'k3', false) \gset
DO $$
DECLARE
  k2 int := current_setting('test.k2');
  k3 int := current_setting('test.k3');
BEGIN
  UPDATE accounts SET balance = balance + 3 WHERE id = k3;
  BEGIN
    UPDATE accounts SET balance = balance + 1000 WHERE id = k2;
    UPDATE accounts SET balance = -1 WHERE id = k3;
  EXCEPTION WHEN check_violation THEN
    RAISE NOTICE 'caught %', SQLSTATE;
  END;
END $$;
SELECT balances();
-- A DO block that fails after writing on a node leaves nothing there.
DO $$
DECLARE
  k2 int := current_setting('test.k2');
BEGIN
  UPDATE accounts SET balance = balance + 1000 WHERE id = k2;
  RAISE EXCEPTION 'changed my mind';
END $$;
SELECT balances();

-- Faults injected at the commit points (superuser only; tests use them).
SET phantomdb.fault_injection = 'after_prepare';
SET phantomdb.fault_injection = 'after_prepares:explode';
SET phantomdb.fault_injection = 'before_prepare:error';
BEGIN;
UPDATE accounts SET balance = 1 WHERE id = :k2;
UPDATE accounts SET balance = 1 WHERE id = :k3;
COMMIT;
SET phantomdb.fault_injection = 'after_some_prepares:error';
BEGIN;
UPDATE accounts SET balance = 1 WHERE id = :k2;
UPDATE accounts SET balance = 1 WHERE id = :k3;
COMMIT;
SET phantomdb.fault_injection = 'after_prepares:error';
BEGIN;
UPDATE accounts SET balance = 1 WHERE id = :k2;
UPDATE accounts SET balance = 1 WHERE id = :k3;
COMMIT;
SELECT balances(), in_doubt();
-- After the local commit nothing can fail any more: an injected error there
-- stands for a COMMIT PREPARED round that failed (a WARNING per node). The
-- transaction has committed; its halves on the nodes wait, prepared and
-- invisible, until recovery commits them. The maintenance worker is kept
-- away so that the recovery below is the one that does it.
ALTER SYSTEM SET phantomdb.max_prepared_recovery_interval_ms = '1h';
SELECT pg_reload_conf(), pg_sleep(1.5);
SET phantomdb.fault_injection = 'after_commit_record:error';
SET client_min_messages = error;  -- the warnings name transaction ids
BEGIN;
UPDATE accounts SET balance = 1 WHERE id = :k2;
UPDATE accounts SET balance = 1 WHERE id = :k3;
COMMIT;
RESET client_min_messages;
RESET phantomdb.fault_injection;
SELECT state, participants, gid ~ '^phantom_1_[0-9]+_[23]$' AS gid_names_coordinator_and_participant
  FROM phantom_dist_transactions ORDER BY gid;
SELECT balances(), in_doubt();
SELECT phantom_recover_prepared_transactions();
SELECT balances(), in_doubt();
SELECT count(*) AS commit_records_left FROM phantomdb.transaction_commits;
ALTER SYSTEM RESET phantomdb.max_prepared_recovery_interval_ms;
SELECT pg_reload_conf();

-- PREPARE TRANSACTION of a transaction with remote work is PhantomDB's job.
BEGIN;
UPDATE accounts SET balance = 2 WHERE id = :k2;
PREPARE TRANSACTION 'mine';
SELECT balances();

-- Recovery needs fresh snapshots.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT phantom_recover_prepared_transactions();
ROLLBACK;
-- Only superusers recover (COMMIT PREPARED of other users' transactions).
CREATE ROLE regress_tx_user;
SET ROLE regress_tx_user;
SELECT phantom_recover_prepared_transactions();
SELECT * FROM phantom_dist_transactions;
RESET ROLE;
DROP ROLE regress_tx_user;

DROP FUNCTION balances(), in_doubt();
DROP TABLE accounts, settings, transfers;
SELECT phantom_remove_node('127.0.0.1:25432');
SELECT phantom_remove_node('127.0.0.1:25433');
DROP EXTENSION phantomdb;
