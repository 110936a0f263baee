-- Sagas (docs/sagas.md): building them, every error of the SQL functions,
-- who sees what, and sagas of local steps run by the maintenance worker.
-- Steps on other nodes, retries, restarts and crashes: test/t/006_sagas.pl.
CREATE EXTENSION phantomdb;

CREATE ROLE regress_saga_alice;
CREATE ROLE regress_saga_bob;
CREATE ROLE regress_saga_admin IN ROLE phantom_admin;
CREATE TABLE saga_log (seq bigserial, saga text, what text, who text DEFAULT current_user);
GRANT ALL ON saga_log, saga_log_seq_seq TO regress_saga_alice;

-- The worker finds started sagas within a second; wait (at most a minute)
-- until this one has ended.
CREATE FUNCTION wait_for_saga(id bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  current text;
BEGIN
  FOR i IN 1 .. 600 LOOP
    SELECT state INTO current FROM phantom_sagas WHERE saga_id = id;
    IF current IN ('completed', 'compensated', 'failed') THEN
      RETURN current;
    END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN 'still ' || current;
END
$$;

-- Any user may build a saga; it is theirs.
SET ROLE regress_saga_alice;
SELECT phantom_saga_create('transfer') AS saga \gset
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('transfer', 'debit')$$,
                             $$INSERT INTO saga_log (saga, what) VALUES ('transfer', 'undo debit')$$);
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('transfer', 'credit')$$, '',
                             node => NULL);
SELECT saga_id = :saga AS is_it, name, owner, state, steps, steps_done, current_step, attempts, next_attempt_at, error
  FROM phantom_sagas;
SELECT step_index, node, status, attempts, last_error, forward_sql, compensate_sql
  FROM phantom_saga_steps WHERE saga_id = :saga;

-- Every argument is checked; a failed call changes nothing.
SELECT phantom_saga_create(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(NULL, 'SELECT 1', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, NULL, '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'SELECT 1', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_start(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(999999, 'SELECT 1', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_start(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, '   ', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, '-- only a comment', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'SELEC 1', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'SELECT 1', 'DELET FROM saga_log');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'BEGIN; SELECT 1; COMMIT', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'SELECT 1', '', 'nowhere');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_create('empty') AS empty_saga \gset
SELECT phantom_saga_start(:empty_saga);
\echo :LAST_ERROR_SQLSTATE
SELECT name, state, steps FROM phantom_sagas ORDER BY saga_id;

-- Other users neither see nor touch alice's sagas; the tables are closed
-- to everyone, phantom_admin included.
SET ROLE regress_saga_bob;
SELECT count(*) FROM phantom_sagas;
SELECT count(*) FROM phantom_saga_steps;
SELECT phantom_saga_add_step(:saga, 'SELECT 1', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_start(:saga);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM phantomdb.sagas;
SET ROLE regress_saga_admin;
SELECT count(*) FROM phantomdb.saga_steps;
UPDATE phantomdb.sagas SET name = 'mine';

-- Once started, a saga takes no more steps.
SET ROLE regress_saga_alice;
BEGIN;
SELECT phantom_saga_start(:saga);
SELECT phantom_saga_add_step(:saga, 'SELECT 1', '');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- The worker runs the steps in order, as their owner.
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT what, who FROM saga_log WHERE saga = 'transfer' ORDER BY seq;
SELECT name, state, steps, steps_done, current_step, attempts, next_attempt_at, error
  FROM phantom_sagas WHERE saga_id = :saga;
SELECT step_index, status, attempts, last_error FROM phantom_saga_steps WHERE saga_id = :saga;
SELECT phantom_saga_start(:saga);
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_saga_add_step(:saga, 'SELECT 1', '');
\echo :LAST_ERROR_SQLSTATE

-- A step that fails for good: the steps before it are compensated, last
-- first; it and the ones after it are not.
SELECT phantom_saga_create('refund') AS saga \gset
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'a')$$,
                             $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'undo a')$$);
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'b')$$,
                             $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'undo b')$$);
SELECT phantom_saga_add_step(:saga, 'SELECT 1/0', $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'undo c')$$);
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'd')$$,
                             $$INSERT INTO saga_log (saga, what) VALUES ('refund', 'undo d')$$);
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT what FROM saga_log WHERE saga = 'refund' ORDER BY seq;
SELECT state, steps_done, current_step, error FROM phantom_sagas WHERE saga_id = :saga;
SELECT step_index, status, attempts, last_error FROM phantom_saga_steps WHERE saga_id = :saga;

-- A compensation that fails for good leaves the saga failed, for a person
-- to finish.
SELECT phantom_saga_create('stuck') AS saga \gset
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what) VALUES ('stuck', 'a')$$, 'SELECT 1/0');
SELECT phantom_saga_add_step(:saga, 'SELECT * FROM no_such_table', '');
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT state, steps_done, error FROM phantom_sagas WHERE saga_id = :saga;
SELECT step_index, status, attempts, last_error FROM phantom_saga_steps WHERE saga_id = :saga;

-- Steps run with the owner's rights only, and leave nothing behind in the
-- worker: no temporary objects, no settings.
SELECT phantom_saga_create('rights') AS saga \gset
SELECT phantom_saga_add_step(:saga, 'SELECT count(*) FROM phantomdb.sagas', '');
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT error FROM phantom_sagas WHERE saga_id = :saga;
SELECT phantom_saga_create('temporary') AS saga \gset
SELECT phantom_saga_add_step(:saga, 'CREATE TEMPORARY TABLE saga_scratch (a int)', '');
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT error FROM phantom_sagas WHERE saga_id = :saga;
SELECT phantom_saga_create('settings') AS saga \gset
SELECT phantom_saga_add_step(:saga, $$SET regress.saga_setting = 'leaked'$$, '');
SELECT phantom_saga_add_step(:saga, $$INSERT INTO saga_log (saga, what)
  VALUES ('settings', COALESCE(NULLIF(current_setting('regress.saga_setting', true), ''), 'not set'))$$, '');
SELECT phantom_saga_start(:saga);
SELECT wait_for_saga(:saga);
SELECT what FROM saga_log WHERE saga = 'settings';

-- A superuser sees every saga.
RESET ROLE;
SELECT name, owner, state, steps, steps_done FROM phantom_sagas ORDER BY saga_id;

DROP FUNCTION wait_for_saga(bigint);
DROP TABLE saga_log;
DROP EXTENSION phantomdb;
DROP ROLE regress_saga_alice, regress_saga_bob, regress_saga_admin;
