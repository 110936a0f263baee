-- The C++/Postgres error boundary (src/pg/guard.hpp), through test-only
-- functions compiled into the library and declared here.
CREATE FUNCTION phantom_test_throw(kind text, sqlstate text) RETURNS text
  LANGUAGE C STRICT AS '$libdir/phantomdb', 'phantom_test_throw';
CREATE FUNCTION phantom_test_pg_error_unwinds(input text) RETURNS integer
  LANGUAGE C STRICT AS '$libdir/phantomdb', 'phantom_test_pg_error_unwinds';
CREATE FUNCTION phantom_test_spin(seconds float8) RETURNS bigint
  LANGUAGE C STRICT AS '$libdir/phantomdb', 'phantom_test_spin';
CREATE FUNCTION phantom_test_destructors_run() RETURNS bigint
  LANGUAGE C STRICT AS '$libdir/phantomdb', 'phantom_test_destructors_run';

SELECT phantom_test_destructors_run();

-- A C++ exception becomes an ERROR with the intended SQLSTATE, detail and hint.
SELECT phantom_test_throw('phantom', '22023');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_throw('phantom', '40001');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_throw('phantom', 'bogus');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_throw('std', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_throw('bad_alloc', '');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_throw('unknown', '');
\echo :LAST_ERROR_SQLSTATE
-- ... and every C++ object alive at the throw was destroyed (one probe per call).
SELECT phantom_test_destructors_run();

-- The session goes on working, in and out of transactions.
SELECT phantom_test_throw('none', '');
BEGIN;
SAVEPOINT before_error;
SELECT phantom_test_throw('phantom', '22023');
ROLLBACK TO SAVEPOINT before_error;
SELECT 'still in the transaction' AS status;
COMMIT;

-- A Postgres ERROR raised under a guarded call unwinds the live C++ objects
-- and reaches the user unchanged.
SELECT phantom_test_pg_error_unwinds('42');
SELECT phantom_test_pg_error_unwinds('not a number');
\echo :LAST_ERROR_SQLSTATE
SELECT phantom_test_destructors_run();

-- A query cancel (here by statement_timeout) during a long C++ computation
-- is honoured, and unwinds it too.
SET statement_timeout = '200ms';
SELECT phantom_test_spin(60);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT phantom_test_destructors_run();
SELECT phantom_test_spin(0.05) > 0 AS spun;

DROP FUNCTION phantom_test_throw(text, text);
DROP FUNCTION phantom_test_pg_error_unwinds(text);
DROP FUNCTION phantom_test_spin(float8);
DROP FUNCTION phantom_test_destructors_run();
