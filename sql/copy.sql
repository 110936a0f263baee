-- COPY into and out of distributed and reference tables
-- (docs/distributed-tables.md, "COPY"), on the fixture of docs/testing.md:
-- this server is 127.0.0.1:25431, 25432 and 25433 run PhantomDB.
CREATE EXTENSION phantomdb;
SELECT phantom_add_node('127.0.0.1', 25432);
SELECT phantom_add_node('127.0.0.1', 25433);

CREATE TABLE accounts (
    id int PRIMARY KEY,
    name text,
    balance int DEFAULT 100,
    doubled int GENERATED ALWAYS AS (id * 2) STORED
);
SELECT phantom_create_distributed_table('accounts', 'id', 8);
-- The same rows go into a local table, the reference for every comparison.
CREATE TABLE accounts_local (LIKE accounts INCLUDING DEFAULTS INCLUDING GENERATED);

-- The distributed table's rows, read back with COPY TO, as a local table.
CREATE TABLE accounts_check (id int, name text, balance int);
CREATE FUNCTION accounts_readback() RETURNS TABLE (rows bigint, differences bigint) LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE accounts_check;
  COPY accounts TO '/tmp/phantom_copy_check.txt';
  COPY accounts_check FROM '/tmp/phantom_copy_check.txt';
  RETURN QUERY SELECT (SELECT count(*) FROM accounts_check),
    (SELECT count(*) FROM ((SELECT * FROM accounts_check EXCEPT ALL SELECT id, name, balance FROM accounts_local)
                           UNION ALL
                           (SELECT id, name, balance FROM accounts_local EXCEPT ALL SELECT * FROM accounts_check)) d);
END $$;

-- Text format: escapes, NULLs, a column list whose missing column takes its default.
COPY accounts (id, name) FROM STDIN;
1	alice
2	bob\twith a tab
3	line\nbreak
4	back\\slash
5	\N
\.
COPY accounts_local (id, name) FROM STDIN;
1	alice
2	bob\twith a tab
3	line\nbreak
4	back\\slash
5	\N
\.
SELECT * FROM accounts WHERE id = 2;
SELECT * FROM accounts WHERE id = 5;

-- CSV with a header, quotes, embedded newlines, tabs and backslashes, NULLs.
COPY accounts (id, name, balance) FROM STDIN (FORMAT csv, HEADER);
id,name,balance
10,"said ""hi""",7
11,"two
lines",
12,,12
13,"",13
14,"a	tab and a \ backslash",14
\.
COPY accounts_local (id, name, balance) FROM STDIN (FORMAT csv, HEADER);
id,name,balance
10,"said ""hi""",7
11,"two
lines",
12,,12
13,"",13
14,"a	tab and a \ backslash",14
\.
SELECT id, name, name IS NULL AS name_is_null, balance FROM accounts WHERE id = 11;
SELECT id, name, name IS NULL AS name_is_null, balance FROM accounts WHERE id = 12;
SELECT id, name, name IS NULL AS name_is_null, balance FROM accounts WHERE id = 13;

-- Other CSV options: delimiter, quote, escape, null marker, FORCE_NOT_NULL.
COPY accounts (id, name, balance) FROM STDIN (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\', NULL 'NIL', FORCE_NOT_NULL (name));
20;'semi;colon';NIL
21;'it\'s';21
22;;22
\.
COPY accounts_local (id, name, balance) FROM STDIN (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\', NULL 'NIL', FORCE_NOT_NULL (name));
20;'semi;colon';NIL
21;'it\'s';21
22;;22
\.
SELECT id, name, name IS NULL AS name_is_null, balance FROM accounts WHERE id = 21;
SELECT id, name, name IS NULL AS name_is_null, balance FROM accounts WHERE id = 22;

-- Many rows, spread over every shard and node.
COPY (SELECT g, 'name ' || g, g % 1000 FROM generate_series(100, 5099) g) TO '/tmp/phantom_copy_test.txt';
COPY accounts (id, name, balance) FROM '/tmp/phantom_copy_test.txt';
COPY accounts_local (id, name, balance) FROM '/tmp/phantom_copy_test.txt';
SELECT * FROM accounts WHERE id = 4321;

-- Binary format, from a file written by Postgres itself.
COPY (SELECT g, 'binary ' || g, -g FROM generate_series(6000, 6999) g) TO '/tmp/phantom_copy_test.bin' (FORMAT binary);
COPY accounts (id, name, balance) FROM '/tmp/phantom_copy_test.bin' (FORMAT binary);
COPY accounts_local (id, name, balance) FROM '/tmp/phantom_copy_test.bin' (FORMAT binary);
SELECT * FROM accounts WHERE id = 6500;

SELECT * FROM accounts_readback();

-- A bad value names its input line, and nothing of the COPY stays.
COPY accounts (id, name) FROM STDIN;
30	fine
31	fine too
thirty-two	bad
\.
SELECT count(*) FROM accounts WHERE id = 30;
-- With every column present in text format, lines go to the shards as they
-- are and the shards read the values: their errors name the line as well.
COPY accounts FROM STDIN;
33	fine	1
34	bad balance	1O0
\.
COPY accounts FROM STDIN;
35	fine	1
36	too short
\.
SELECT count(*) FROM accounts WHERE id = 33;
-- A constraint violation found on a node names the input line too: the
-- duplicate key of line 3 is in the file, the one of line 2 in the table.
COPY accounts (id, name) FROM STDIN;
40	first
41	second
40	again
\.
COPY accounts (id, name) FROM STDIN;
42	new
1	already there
\.
-- Every row of a table without a distribution value is refused.
COPY accounts (id, name) FROM STDIN;
43	fine
\N	no id
\.
SELECT count(*) FROM accounts WHERE id = 40;
SELECT count(*) FROM accounts WHERE id = 42;
-- Unsupported forms are refused before reading any data (psql still
-- skips the data, up to the end marker).
COPY accounts FROM STDIN WHERE id > 0;
\.
SELECT * FROM accounts_readback();

-- COPY TO: text and CSV with a header (once), a column list, binary
-- round trip; rows come shard by shard.
CREATE TABLE accounts_small (LIKE accounts_check);
CREATE TABLE small (id int PRIMARY KEY, name text);
SELECT phantom_create_distributed_table('small', 'id', 4);
COPY small FROM STDIN (FORMAT csv);
1,one
2,"two, with a comma"
3,
4,four
5,"five
lines"
\.
COPY small TO STDOUT;
COPY small TO STDOUT (FORMAT csv, HEADER);
COPY small (name) TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE *);
COPY accounts TO '/tmp/phantom_copy_out.bin' (FORMAT binary);
COPY accounts_small FROM '/tmp/phantom_copy_out.bin' (FORMAT binary);
SELECT count(*) FROM ((SELECT * FROM accounts_small EXCEPT ALL SELECT id, name, balance FROM accounts_local)
                      UNION ALL
                      (SELECT id, name, balance FROM accounts_local EXCEPT ALL SELECT * FROM accounts_small)) d;
-- COPY (query) is Postgres's: the distributed planner routes the query.
COPY (SELECT id, name FROM small WHERE id = 2) TO STDOUT;

-- Values are read under the session's DateStyle and IntervalStyle and come
-- back in them, whichever node holds the row.
CREATE TABLE events (id int PRIMARY KEY, day date, span interval);
SELECT phantom_create_distributed_table('events', 'id', 4);
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
COPY events FROM STDIN;
1	02/01/2024	-1 2:03:04
2	13/12/2023	1 day
3	31/01/2025	\N
4	01/02/2025	-3:00
\.
COPY events TO STDOUT;
RESET DateStyle;
RESET IntervalStyle;
SELECT * FROM events WHERE id = 1;
SELECT * FROM events WHERE id = 4;
DROP TABLE events;

-- Reference tables: every node gets every row.
CREATE TABLE regions (code text PRIMARY KEY, label text);
SELECT phantom_create_reference_table('regions');
COPY regions FROM STDIN;
eu	Europe
us	Americas
ap	Asia Pacific
\.
COPY regions TO STDOUT (FORMAT csv, HEADER);
SELECT * FROM regions WHERE code = 'us';
COPY regions FROM STDIN;
eu	duplicate
\.

-- Privileges: INSERT for COPY FROM, SELECT for COPY TO, server files for
-- superusers and pg_read/write_server_files only. (Row level security
-- cannot be enabled on distributed tables: distributed_tables.sql.)
CREATE ROLE regress_copy_user;
SET ROLE regress_copy_user;
COPY small FROM STDIN;
\.
COPY small TO STDOUT;
COPY small TO '/tmp/phantom_copy_denied.txt';
COPY small FROM '/tmp/phantom_copy_test.txt';
RESET ROLE;
DROP ROLE regress_copy_user;

DROP FUNCTION accounts_readback();
DROP TABLE accounts, accounts_local, accounts_check, accounts_small, small, regions;
SELECT phantom_remove_node('127.0.0.1:25432');
SELECT phantom_remove_node('127.0.0.1:25433');
DROP EXTENSION phantomdb;
