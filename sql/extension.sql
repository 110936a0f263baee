-- Installing PhantomDB: the catalog, its write guard, privileges and settings.
CREATE EXTENSION phantomdb;
SELECT extversion FROM pg_extension WHERE extname = 'phantomdb';

-- A fresh node: no nodes, nothing in the metadata log.
SELECT * FROM phantom_nodes;
SELECT count(*) FROM phantomdb.metadata_log;
SELECT applied_index FROM phantomdb.metadata_applied;

-- The catalog changes only through metadata commands, even for a superuser.
INSERT INTO phantomdb.nodes VALUES (1, 'n1', '127.0.0.1', 5432, 'default', 'primary', 'active', NULL);
UPDATE phantomdb.metadata_applied SET applied_index = 5;
DELETE FROM phantomdb.metadata_log;
TRUNCATE phantomdb.cluster;
SELECT applied_index FROM phantomdb.metadata_applied;

-- Anyone may read the node list; administering needs phantom_admin (or
-- superuser), and the node-to-node functions are not for users at all.
CREATE ROLE regress_phantom_user;
CREATE ROLE regress_phantom_admin IN ROLE phantom_admin;
SET ROLE regress_phantom_user;
SELECT count(*) FROM phantom_nodes;
SELECT phantom_add_node('127.0.0.1', 25432);
SELECT phantom_remove_node('node2');
SELECT * FROM phantom_cluster_health();
SELECT phantomdb.leave_cluster('4f5a2c1e-0000-4000-8000-000000000000');
SET ROLE regress_phantom_admin;
SELECT "check", ok FROM phantom_cluster_health() WHERE "check" = 'shared_preload_libraries';
SELECT phantom_remove_node('nobody');
RESET ROLE;
DROP ROLE regress_phantom_user;
DROP ROLE regress_phantom_admin;

-- Settings: the phantomdb. prefix is reserved, so a typo is an error.
SET phantomdb.node_timeout = 100;
SHOW phantomdb.node_timeout_ms;
SET phantomdb.node_timeout_ms = 50;
SET phantomdb.node_conninfo = 'sslmode=disable connect_timeout=3';
SHOW phantomdb.node_conninfo;
SET phantomdb.node_conninfo = 'port=5433';
SET phantomdb.node_conninfo = 'sslmode';
SET phantomdb.node_conninfo = 'no_such_option=1';
RESET phantomdb.node_conninfo;

-- Dropping and re-creating starts from an empty catalog again.
DROP EXTENSION phantomdb;
SELECT count(*) FROM pg_namespace WHERE nspname = 'phantomdb';
CREATE EXTENSION phantomdb;
SELECT count(*) FROM phantom_nodes;

-- Adding this node itself founds a one-node cluster under the name given.
SELECT phantom_add_node('127.0.0.1', 25431, 'solo', region => 'eu-west');
SELECT node_id, node_name, host, port, region, role, state FROM phantom_nodes;
SELECT phantom_add_node('127.0.0.1', 25431);
SELECT phantom_remove_node('solo');
DROP EXTENSION phantomdb;
