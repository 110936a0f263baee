-- PhantomDB 0.1: the node catalog, the metadata log and the node functions.
-- Upgrades from this version go in phantomdb--0.1--<next>.sql.

\echo Use "CREATE EXTENSION phantomdb" to load this file. \quit

-- Catalog tables and internal functions live in schema phantomdb; the
-- user-facing functions and views go to the extension's schema (public by
-- default), so they are callable unqualified.
CREATE SCHEMA phantomdb;

-- Refuses to install where the library is not preloaded: later parts
-- (background workers, shared memory) exist only when the postmaster loads it.
CREATE FUNCTION phantomdb.assert_preloaded() RETURNS void
  LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_assert_preloaded';
SELECT phantomdb.assert_preloaded();

-- The replicated catalog: the same rows on every node of a cluster, changed
-- only by the raft worker applying the metadata log (docs/raft.md).
-- Which cluster the catalog describes (at most one row).
CREATE TABLE phantomdb.cluster (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  cluster_id uuid NOT NULL,
  next_node_id integer NOT NULL,       -- node ids are never reused
  next_table_id bigint NOT NULL DEFAULT 1,          -- table, shard and colocation ids are never reused
  next_shard_id bigint NOT NULL DEFAULT 102008,
  next_colocation_id integer NOT NULL DEFAULT 1,
  metadata_version bigint NOT NULL DEFAULT 0   -- log index of the last change proposals are checked against
);

CREATE TABLE phantomdb.nodes (
  node_id integer PRIMARY KEY,
  node_name text NOT NULL UNIQUE,
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  region text NOT NULL,
  role text NOT NULL CHECK (role IN ('primary', 'replica')),
  state text NOT NULL CHECK (state IN ('joining', 'active', 'suspect', 'failed', 'draining', 'drained')),
  last_heartbeat timestamptz,          -- the leader's last answer from it, as of its last state change
  UNIQUE (host, port)
);

-- Distributed and reference tables (docs/distributed-tables.md). Tables are
-- named, not referenced by oid: oids differ from node to node, names do not.
CREATE TABLE phantomdb.colocation_groups (
  colocation_id integer PRIMARY KEY CHECK (colocation_id > 0),
  shard_count integer NOT NULL CHECK (shard_count > 0),
  distribution_type text NOT NULL,
  replication_factor integer NOT NULL CHECK (replication_factor > 0)
);

CREATE TABLE phantomdb.tables (
  table_id bigint PRIMARY KEY CHECK (table_id > 0),
  schema_name name NOT NULL,
  table_name name NOT NULL,
  method text NOT NULL CHECK (method IN ('hash', 'reference')),
  distribution_column name,            -- NULL for reference tables
  colocation_id integer REFERENCES phantomdb.colocation_groups,
  UNIQUE (schema_name, table_name),
  CHECK ((method = 'hash') = (distribution_column IS NOT NULL AND colocation_id IS NOT NULL))
);

CREATE TABLE phantomdb.shards (
  shard_id bigint PRIMARY KEY CHECK (shard_id > 0),
  table_id bigint NOT NULL REFERENCES phantomdb.tables ON DELETE CASCADE,
  shard_index integer NOT NULL,
  hash_min integer NOT NULL,
  hash_max integer NOT NULL,
  UNIQUE (table_id, shard_index),
  CHECK (hash_min <= hash_max)
);

CREATE TABLE phantomdb.placements (
  shard_id bigint NOT NULL REFERENCES phantomdb.shards ON DELETE CASCADE,
  node_id integer NOT NULL REFERENCES phantomdb.nodes,
  placement_rank integer NOT NULL,     -- 0 = primary copy
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'inactive')),
  PRIMARY KEY (shard_id, node_id),
  UNIQUE (shard_id, placement_rank)
);
CREATE INDEX ON phantomdb.placements (node_id);

-- The metadata log entries this node applied, in order (entries older than
-- the snapshot a node caught up from are missing there).
CREATE TABLE phantomdb.metadata_log (
  log_index bigint PRIMARY KEY CHECK (log_index > 0),
  term bigint NOT NULL,
  command_type text NOT NULL,          -- for people reading the log; the bytes are what is applied
  command bytea NOT NULL,
  proposal_id bigint NOT NULL DEFAULT 0,
  origin integer NOT NULL DEFAULT 0,   -- the node that proposed it
  refused text,                        -- why applying refused it (on every node alike); NULL: applied
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- This node's own identity in its cluster: node-local, not replicated;
-- written by the raft worker when the node founds or joins a cluster.
CREATE TABLE phantomdb.local_node (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  node_id integer NOT NULL,
  cluster_id uuid NOT NULL
);

CREATE TABLE phantomdb.metadata_applied (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  applied_index bigint NOT NULL
);
INSERT INTO phantomdb.metadata_applied VALUES (true, 0);

-- Writes to the catalog are refused unless a metadata command is being applied.
CREATE FUNCTION phantomdb.catalog_write_guard() RETURNS trigger
  LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_catalog_write_guard';
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.cluster
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.nodes
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.colocation_groups
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.tables
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.shards
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.placements
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.metadata_log
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.metadata_applied
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.local_node
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();

-- Node-to-node calls (src/pg/functions/node_rpc_functions.cpp).
CREATE FUNCTION phantomdb.node_identity(OUT system_identifier text, OUT port integer, OUT cluster_id uuid)
  LANGUAGE sql STABLE AS $$
    SELECT (SELECT s.system_identifier::text FROM pg_catalog.pg_control_system() s),
           pg_catalog.current_setting('port')::integer, l.cluster_id
      FROM (SELECT 1) AS one LEFT JOIN phantomdb.local_node l ON true
  $$;
-- peers: one "node_id host port" line per node, to talk to until the
-- catalog arrives through Raft.
CREATE FUNCTION phantomdb.join_cluster(cluster_id text, node_id integer, peers text)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_join_cluster';
CREATE FUNCTION phantomdb.leave_cluster(cluster_id text)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_leave_cluster';
-- A node that found this one through phantomdb.seeds asks to be added.
CREATE FUNCTION phantomdb.request_join(host text, port integer, node_name text, region text)
  RETURNS integer LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_request_join';

-- Raft (src/pg/raft, docs/raft.md). Peers' raft workers call raft_deliver
-- over libpq to hand this node's worker a batch of messages.
CREATE FUNCTION phantomdb.raft_deliver(cluster_id text, batch bytea) RETURNS void
  LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_raft_deliver';
CREATE FUNCTION phantom_raft_status(
  OUT node_id integer, OUT cluster_id text, OUT role text, OUT term bigint, OUT leader_id integer,
  OUT commit_index bigint, OUT applied_index bigint, OUT first_index bigint, OUT last_index bigint,
  OUT voters integer[], OUT learners integer[])
  LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'phantom_raft_status';
COMMENT ON FUNCTION phantom_raft_status() IS 'this node''s member of the metadata Raft group';
-- match_index is known on the leader only.
CREATE FUNCTION phantomdb.raft_peers(OUT node_id integer, OUT voter boolean, OUT match_index bigint,
                                     OUT last_heard timestamptz)
  RETURNS SETOF record LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'phantom_raft_peers';
CREATE FUNCTION phantom_metadata_barrier() RETURNS bigint
  LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_metadata_barrier';
COMMENT ON FUNCTION phantom_metadata_barrier() IS
  'returns the log index of a no-op metadata entry once this node applied it (and everything committed before)';
CREATE FUNCTION phantom_raft_transfer_leadership(node text DEFAULT NULL) RETURNS integer
  LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_raft_transfer_leadership';
COMMENT ON FUNCTION phantom_raft_transfer_leadership(text) IS
  'hands the metadata leadership to a voter (the most up-to-date one when not named); returns its node id';

-- Who may administer the cluster besides superusers. Roles are global, so
-- the role outlives DROP EXTENSION and is reused by a later CREATE.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'phantom_admin') THEN
    CREATE ROLE phantom_admin NOLOGIN;
  END IF;
END
$$;

CREATE FUNCTION phantom_add_node(host text, port integer DEFAULT 5432, node_name text DEFAULT NULL,
                                 region text DEFAULT 'default', role text DEFAULT 'primary')
  RETURNS integer LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_add_node';
COMMENT ON FUNCTION phantom_add_node(text, integer, text, text, text) IS
  'adds the node at host:port to the cluster and returns its node id; idempotent for the same host:port';

CREATE FUNCTION phantom_remove_node(node text)
  RETURNS void LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_remove_node';
COMMENT ON FUNCTION phantom_remove_node(text) IS 'removes a node, named by node_name or host:port';

CREATE FUNCTION phantom_cluster_health(OUT "check" text, OUT ok boolean, OUT detail text)
  RETURNS SETOF record LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_cluster_health';
COMMENT ON FUNCTION phantom_cluster_health() IS 'one row per health check of this node and the nodes it administers';

-- is_raft_voter and last_heartbeat come from this node's raft worker: the
-- leader hears from every node, a follower only from the leader (elsewhere
-- the time recorded with the node's last state change shows).
CREATE VIEW phantom_nodes AS
  SELECT n.node_id, n.node_name, n.host, n.port, n.region, n.role, n.state,
         coalesce(p.voter, false) AS is_raft_voter,
         greatest(p.last_heard, n.last_heartbeat) AS last_heartbeat
    FROM phantomdb.nodes n LEFT JOIN phantomdb.raft_peers() p USING (node_id)
   ORDER BY n.node_id;
COMMENT ON VIEW phantom_nodes IS 'the nodes of the cluster, as this node''s catalog knows them';

-- Distributed and reference tables (src/pg/functions/table_functions.cpp).
CREATE FUNCTION phantomdb.distribution_hash(value anyelement) RETURNS integer
  LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'phantom_distribution_hash';
COMMENT ON FUNCTION phantomdb.distribution_hash(anyelement) IS
  'the point of the hash space a distribution value maps to (docs/distributed-tables.md)';

-- variance/stddev (sample or population) of numeric values from the count,
-- sum and sum of squares of every shard, with the arithmetic of Postgres's
-- own numeric variance (exact products, select_div_scale division, the
-- square root rounded to the variance's scale); see docs/query-processing.md.
CREATE FUNCTION phantomdb.combined_variance(n numeric, sum_x numeric, sum_x2 numeric, sample boolean, root boolean)
  RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN n IS NULL OR n = 0 OR (sample AND n <= 1) THEN NULL
           WHEN n * sum_x2 - sum_x * sum_x <= 0 THEN 0::numeric
           WHEN NOT root OR v = 'NaN' THEN v
           ELSE round(sqrt(v), scale(v))
         END
    FROM (SELECT (n * sum_x2 - sum_x * sum_x) / nullif(n * CASE WHEN sample THEN n - 1 ELSE n END, 0) AS v) AS q
$$;

-- The placeholder a pushed-down query's plan scans in place of its FROM
-- clause (docs/query-processing.md); it is never run.
CREATE FUNCTION phantomdb.fragment_results() RETURNS SETOF record
  LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'phantom_fragment_results';
REVOKE ALL ON FUNCTION phantomdb.fragment_results() FROM PUBLIC;

CREATE FUNCTION phantom_create_distributed_table("table" regclass, distribution_column text,
                                                 shard_count integer DEFAULT NULL,
                                                 colocate_with text DEFAULT 'default',
                                                 replication_factor integer DEFAULT 1)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_create_distributed_table';
COMMENT ON FUNCTION phantom_create_distributed_table(regclass, text, integer, text, integer) IS
  'hash-distributes a table over the active nodes (shard_count NULL: phantomdb.shard_count); existing rows move into the shards';

CREATE FUNCTION phantom_create_reference_table("table" regclass)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_create_reference_table';
COMMENT ON FUNCTION phantom_create_reference_table(regclass) IS 'keeps a full copy of a table on every node';

CREATE FUNCTION phantom_undistribute_table("table" regclass)
  RETURNS void LANGUAGE C SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_undistribute_table';
COMMENT ON FUNCTION phantom_undistribute_table(regclass) IS
  'brings the data back into a local table: copies every shard''s rows into it, drops the shards';

CREATE FUNCTION phantom_shard_for_value("table" regclass, value anyelement) RETURNS bigint
  LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'phantom_shard_for_value';
COMMENT ON FUNCTION phantom_shard_for_value(regclass, anyelement) IS
  'the shard that holds rows whose distribution column equals value (NULL for NULL)';
-- A quoted literal ('42', 'a0eebc99-...') is read as the column's type.
CREATE FUNCTION phantom_shard_for_value("table" regclass, value text) RETURNS bigint
  LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'phantom_shard_for_value';
COMMENT ON FUNCTION phantom_shard_for_value(regclass, text) IS
  'the shard that holds rows whose distribution column equals value, read as the column''s type';

-- Sizes come from every node at query time; a node that does not answer
-- shows NULL.
CREATE FUNCTION phantomdb.shard_sizes(OUT shard_id bigint, OUT node_id integer, OUT size bigint)
  RETURNS SETOF record LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_shard_sizes';

CREATE VIEW phantom_shards AS
  SELECT s.shard_id, pg_catalog.to_regclass(pg_catalog.format('%I.%I', t.schema_name, t.table_name)) AS "table",
         s.hash_min, s.hash_max, n.node_name AS node, p.state AS placement_state, z.size
    FROM phantomdb.shards s
    JOIN phantomdb.tables t USING (table_id)
    JOIN phantomdb.placements p USING (shard_id)
    JOIN phantomdb.nodes n USING (node_id)
    LEFT JOIN phantomdb.shard_sizes() z ON z.shard_id = s.shard_id AND z.node_id = p.node_id
   ORDER BY s.shard_id, p.placement_rank;
COMMENT ON VIEW phantom_shards IS 'one row per shard placement: its hash range, node and size';

CREATE VIEW phantom_tables AS
  SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', t.schema_name, t.table_name)) AS "table",
         t.method, t.distribution_column::text AS distribution_column,
         (SELECT pg_catalog.count(*) FROM phantomdb.shards s WHERE s.table_id = t.table_id)::integer AS shard_count,
         t.colocation_id, coalesce(g.replication_factor, 1) AS replication_factor,
         (SELECT pg_catalog.sum(z.size) FROM phantomdb.shard_sizes() z
            JOIN phantomdb.shards s USING (shard_id) WHERE s.table_id = t.table_id)::bigint AS size
    FROM phantomdb.tables t LEFT JOIN phantomdb.colocation_groups g USING (colocation_id)
   ORDER BY t.table_id;
COMMENT ON VIEW phantom_tables IS 'distributed and reference tables; size sums every placement';

-- Distributed transactions (docs/transactions.md).
-- The commit decision of every two-phase commit this node coordinates:
-- inserted by the coordinator's own commit, deleted by recovery once every
-- participant has finished.
CREATE TABLE phantomdb.transaction_commits (
  transaction_id xid8 PRIMARY KEY,     -- the coordinator's transaction
  participants integer[] NOT NULL,     -- node ids that prepared
  committed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE FUNCTION phantomdb.join_transaction(node integer, number bigint, start_us bigint) RETURNS void
  LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_join_transaction';
COMMENT ON FUNCTION phantomdb.join_transaction(integer, bigint, bigint) IS
  'internal: marks this backend as working for a distributed transaction (sent with each remote BEGIN)';

CREATE FUNCTION phantom_recover_prepared_transactions() RETURNS integer
  LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_recover_prepared_transactions';
COMMENT ON FUNCTION phantom_recover_prepared_transactions() IS
  'resolves the in-doubt prepared transactions this node coordinated; returns how many';

CREATE FUNCTION phantomdb.dist_transactions(OUT transaction_id text, OUT role text, OUT state text,
    OUT participants text[], OUT pid integer, OUT started_at timestamptz, OUT gid text)
  RETURNS SETOF record LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_dist_transactions';

CREATE VIEW phantom_dist_transactions AS SELECT * FROM phantomdb.dist_transactions();
COMMENT ON VIEW phantom_dist_transactions IS
  'distributed transactions in flight on this node, and prepared transactions it coordinated that are in doubt';

-- Sagas (docs/sagas.md): sequences of statements, each run by the
-- maintenance worker in its own transaction, compensated last-first when one
-- fails for good.
--
-- Privileges: any user may create and run sagas. The tables are closed to
-- everyone but the extension (not even phantom_admin: whoever can write them
-- can make a step run as any role); the functions below are plain C
-- functions (not SECURITY DEFINER, so they see who calls them) that check the
-- caller owns the saga and write the tables as the bootstrap superuser. The
-- steps themselves run as the owner, never as the worker's superuser.
CREATE TABLE phantomdb.sagas (
  saga_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  owner regrole NOT NULL,              -- the role that created it; steps run as this role
  state text NOT NULL DEFAULT 'created'
    CHECK (state IN ('created', 'running', 'compensating', 'completed', 'compensated', 'failed')),
  error text,                          -- why it compensated or failed
  next_attempt_at timestamptz,         -- NULL: the current action may run now
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- What the worker looks for: sagas with work left.
CREATE INDEX ON phantomdb.sagas (updated_at) WHERE state IN ('running', 'compensating');

CREATE TABLE phantomdb.saga_steps (
  saga_id bigint NOT NULL REFERENCES phantomdb.sagas ON DELETE CASCADE,
  step_index integer NOT NULL CHECK (step_index >= 0),   -- 0-based, the order they run in
  forward_sql text NOT NULL,
  compensate_sql text NOT NULL,        -- blank: nothing to undo
  node text,                           -- a node_name of phantomdb.nodes; NULL: this node
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'compensated')),
  attempts integer NOT NULL DEFAULT 0, -- of the current action: the forward statement, then the compensation
  last_error text,
  PRIMARY KEY (saga_id, step_index)
);

CREATE FUNCTION phantom_saga_create(name text) RETURNS bigint
  LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_saga_create';
COMMENT ON FUNCTION phantom_saga_create(text) IS
  'creates an empty saga owned by the current user and returns its id; add steps, then start it';

CREATE FUNCTION phantom_saga_add_step(saga bigint, forward_sql text, compensate_sql text, node text DEFAULT NULL)
  RETURNS integer LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_saga_add_step';
COMMENT ON FUNCTION phantom_saga_add_step(bigint, text, text, text) IS
  'appends a step (forward statement, compensating statement or '''', node or NULL for this one); returns its 0-based index';

CREATE FUNCTION phantom_saga_start(saga bigint) RETURNS void
  LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'phantom_saga_start';
COMMENT ON FUNCTION phantom_saga_start(bigint) IS
  'hands a saga to the maintenance worker, which runs its steps in order';

-- The views run as their owner (so they can read the tables) and show the
-- caller's own sagas, or all of them to a superuser. security_barrier: a
-- caller's function in WHERE must not see the other rows first.
CREATE VIEW phantom_sagas WITH (security_barrier) AS
  SELECT s.saga_id, s.name, s.owner, s.state,
         c.steps, c.steps_done,
         cur.step_index AS current_step, cur.node AS current_node, cur.attempts, cur.last_error,
         s.next_attempt_at, s.error, s.created_at, s.updated_at
    FROM phantomdb.sagas s
   CROSS JOIN LATERAL (
         SELECT pg_catalog.count(*)::integer AS steps,
                pg_catalog.count(*) FILTER (WHERE t.status = 'done')::integer AS steps_done
           FROM phantomdb.saga_steps t WHERE t.saga_id = s.saga_id) c
    -- The step being worked on: the first pending one while running, the
    -- last done one while compensating (as the core decides).
    LEFT JOIN LATERAL (
         SELECT t.step_index, t.node, t.attempts, t.last_error
           FROM phantomdb.saga_steps t
          WHERE t.saga_id = s.saga_id
            AND ((s.state = 'running' AND t.status = 'pending') OR (s.state = 'compensating' AND t.status = 'done'))
          ORDER BY CASE WHEN s.state = 'running' THEN t.step_index ELSE -t.step_index END
          LIMIT 1) cur ON true
   WHERE s.owner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
      OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
   ORDER BY s.saga_id;
COMMENT ON VIEW phantom_sagas IS
  'the caller''s sagas (all of them for a superuser): state, progress, the step being worked on, errors';

CREATE VIEW phantom_saga_steps WITH (security_barrier) AS
  SELECT t.saga_id, t.step_index, t.node, t.status, t.attempts, t.last_error, t.forward_sql, t.compensate_sql
    FROM phantomdb.saga_steps t JOIN phantomdb.sagas s USING (saga_id)
   WHERE s.owner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
      OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
   ORDER BY t.saga_id, t.step_index;
COMMENT ON VIEW phantom_saga_steps IS 'the steps of the caller''s sagas (all of them for a superuser)';

GRANT EXECUTE ON FUNCTION phantom_saga_create(text), phantom_saga_add_step(bigint, text, text, text),
  phantom_saga_start(bigint) TO PUBLIC;
GRANT SELECT ON phantom_sagas, phantom_saga_steps TO PUBLIC;
-- Distributed deadlock detection (src/pg/transactions/deadlock_detector.hpp).
-- This node's lock waits between backends, each side named by the
-- distributed transaction it works for (node, number), or, for a plain local
-- transaction, by pid and local transaction number (node and number NULL).
-- The administering node's maintenance worker reads it on every node.
CREATE FUNCTION phantomdb.lock_waits(
    OUT waiting_pid integer, OUT waiting_node integer, OUT waiting_number bigint,
    OUT waiting_local_xact bigint, OUT waiting_start_us bigint,
    OUT blocking_pid integer, OUT blocking_node integer, OUT blocking_number bigint,
    OUT blocking_local_xact bigint, OUT blocking_start_us bigint)
  RETURNS SETOF record LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_lock_waits';
COMMENT ON FUNCTION phantomdb.lock_waits() IS
  'internal: this node''s lock waits mapped to distributed transactions (start_us: Unix microseconds)';

-- For isolation specs, swapped in for pg_catalog.pg_isolation_test_session_is_blocked:
-- a coordinator whose remote statement waits for a lock on another node
-- otherwise looks busy to isolationtester.
CREATE FUNCTION phantomdb.isolation_test_session_is_blocked(pid integer, interesting_pids integer[])
  RETURNS boolean LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'phantom_isolation_test_session_is_blocked';
COMMENT ON FUNCTION phantomdb.isolation_test_session_is_blocked(integer, integer[]) IS
  'test support: pg_isolation_test_session_is_blocked that also sees lock waits of distributed transactions on other nodes';

REVOKE ALL ON FUNCTION phantomdb.lock_waits(), phantomdb.isolation_test_session_is_blocked(integer, integer[])
  FROM PUBLIC;

REVOKE ALL ON SCHEMA phantomdb FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA phantomdb FROM PUBLIC;
REVOKE ALL ON FUNCTION phantom_add_node(text, integer, text, text, text), phantom_remove_node(text),
  phantom_cluster_health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phantom_add_node(text, integer, text, text, text), phantom_remove_node(text),
  phantom_cluster_health() TO phantom_admin;
REVOKE ALL ON FUNCTION phantom_raft_transfer_leadership(text), phantom_metadata_barrier() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phantom_raft_transfer_leadership(text), phantom_metadata_barrier() TO phantom_admin;
-- phantom_nodes is readable by everyone; so is what it shows of Raft.
GRANT EXECUTE ON FUNCTION phantomdb.raft_peers() TO PUBLIC;
GRANT SELECT ON phantom_nodes, phantom_shards, phantom_tables TO PUBLIC;
-- Every user's remote BEGIN calls join_transaction on the nodes.
GRANT USAGE ON SCHEMA phantomdb TO PUBLIC;
GRANT EXECUTE ON FUNCTION phantomdb.join_transaction(integer, bigint, bigint) TO PUBLIC;
REVOKE ALL ON FUNCTION phantom_recover_prepared_transactions() FROM PUBLIC;
GRANT SELECT ON phantom_dist_transactions TO phantom_admin;
GRANT EXECUTE ON FUNCTION phantomdb.dist_transactions() TO phantom_admin;
GRANT EXECUTE ON FUNCTION phantomdb.shard_sizes() TO PUBLIC;
-- Distributing a table reads the catalog as the caller (who must own the
-- table); only the raft worker writes it.
REVOKE ALL ON FUNCTION phantom_create_distributed_table(regclass, text, integer, text, integer),
  phantom_create_reference_table(regclass), phantom_undistribute_table(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phantom_create_distributed_table(regclass, text, integer, text, integer),
  phantom_create_reference_table(regclass), phantom_undistribute_table(regclass) TO phantom_admin;
GRANT USAGE ON SCHEMA phantomdb TO phantom_admin;
GRANT EXECUTE ON FUNCTION phantomdb.distribution_hash(anyelement) TO phantom_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA phantomdb TO phantom_admin;
-- ...except the saga tables (see "Sagas" above): writing them means choosing
-- the role a step runs as, which only the extension may do.
REVOKE ALL ON phantomdb.sagas, phantomdb.saga_steps FROM phantom_admin;
