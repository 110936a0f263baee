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

-- Which cluster this node's catalog describes (at most one row).
CREATE TABLE phantomdb.cluster (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  cluster_id uuid NOT NULL,
  local_node_id integer NOT NULL,      -- 0: a member; the metadata is held by the coordinator
  next_node_id integer NOT NULL,       -- node ids are never reused
  coordinator_host text NOT NULL,
  coordinator_port integer NOT NULL
);

CREATE TABLE phantomdb.nodes (
  node_id integer PRIMARY KEY,
  node_name text NOT NULL UNIQUE,
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  region text NOT NULL,
  role text NOT NULL CHECK (role IN ('primary', 'replica')),
  state text NOT NULL CHECK (state IN ('joining', 'active', 'suspect', 'failed', 'draining', 'drained')),
  is_raft_voter boolean NOT NULL,
  last_heartbeat timestamptz,
  UNIQUE (host, port)
);

-- Every catalog change, in order, as an encoded command (src/core/metadata).
CREATE TABLE phantomdb.metadata_log (
  log_index bigint PRIMARY KEY CHECK (log_index > 0),
  term bigint NOT NULL,
  command_type text NOT NULL,          -- for people reading the log; the bytes are what is applied
  command bytea NOT NULL,
  appended_at timestamptz NOT NULL DEFAULT now()
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
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.metadata_log
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();
CREATE TRIGGER catalog_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON phantomdb.metadata_applied
  FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.catalog_write_guard();

-- Node-to-node calls (src/pg/functions/node_rpc_functions.cpp).
CREATE FUNCTION phantomdb.node_identity(
  OUT system_identifier text, OUT port integer, OUT cluster_id uuid,
  OUT coordinator_host text, OUT coordinator_port integer, OUT is_coordinator boolean,
  OUT coordinates_others boolean)
  LANGUAGE sql STABLE AS $$
    SELECT (SELECT s.system_identifier::text FROM pg_catalog.pg_control_system() s),
           pg_catalog.current_setting('port')::integer,
           c.cluster_id, c.coordinator_host, c.coordinator_port, c.local_node_id <> 0,
           c.local_node_id <> 0 AND EXISTS (SELECT 1 FROM phantomdb.nodes n WHERE n.node_id <> c.local_node_id)
      FROM (SELECT 1) AS one LEFT JOIN phantomdb.cluster c ON true
  $$;
CREATE FUNCTION phantomdb.join_cluster(cluster_id text, coordinator_host text, coordinator_port integer)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_join_cluster';
CREATE FUNCTION phantomdb.leave_cluster(cluster_id text)
  RETURNS void LANGUAGE C AS 'MODULE_PATHNAME', 'phantom_leave_cluster';

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

CREATE VIEW phantom_nodes AS
  SELECT node_id, node_name, host, port, region, role, state, is_raft_voter, last_heartbeat
    FROM phantomdb.nodes
   ORDER BY node_id;
COMMENT ON VIEW phantom_nodes IS 'the nodes of the cluster, as this node''s catalog knows them';

REVOKE ALL ON SCHEMA phantomdb FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA phantomdb FROM PUBLIC;
REVOKE ALL ON FUNCTION phantom_add_node(text, integer, text, text, text), phantom_remove_node(text),
  phantom_cluster_health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phantom_add_node(text, integer, text, text, text), phantom_remove_node(text),
  phantom_cluster_health() TO phantom_admin;
GRANT SELECT ON phantom_nodes TO PUBLIC;
