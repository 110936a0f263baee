-- Node management on the test fixture that `phantomctl test` starts
-- (docs/testing.md): this server is 127.0.0.1:25431; 25432 and 25433 run
-- PhantomDB; 25434 runs Postgres without the extension in this database;
-- 25438 accepts connections and never answers; nothing listens on 25439.
CREATE EXTENSION phantomdb;

-- Bad arguments are refused before any connection is attempted.
SELECT phantom_add_node(NULL);
SELECT phantom_add_node('', 25432);
SELECT phantom_add_node('127.0.0.1', 0);
SELECT phantom_add_node('127.0.0.1', 70000);
SELECT phantom_add_node('127.0.0.1', NULL);
SELECT phantom_add_node('127.0.0.1', 25432, '');
SELECT phantom_add_node('127.0.0.1', 25432, repeat('n', 64));
SELECT phantom_add_node('127.0.0.1', 25432, region => '');
SELECT phantom_add_node('127.0.0.1', 25432, region => NULL);
SELECT phantom_add_node('127.0.0.1', 25432, role => 'leader');

-- Nodes that cannot join: nothing listens on the port; the host never
-- answers; the extension is missing there.
SELECT phantom_add_node('127.0.0.1', 25439);
SET phantomdb.node_timeout_ms = 500;
SELECT phantom_add_node('127.0.0.1', 25438);
RESET phantomdb.node_timeout_ms;
SELECT phantom_add_node('127.0.0.1', 25434, 'node4');
-- phantomdb.node_conninfo applies to node-to-node connections (the fixture
-- servers have no TLS).
SET phantomdb.node_conninfo = 'sslmode=require';
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
RESET phantomdb.node_conninfo;

-- None of that changed anything: not even this node registered itself.
SELECT count(*) FROM phantomdb.metadata_log;
SELECT * FROM phantom_nodes;

-- The first add founds the cluster: this node registers itself (named
-- host:port, as phantomdb.node_name is unset here), then the new node.
-- It returns once the new node caught up and is active.
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT node_id, node_name, host, port, region, role, state, last_heartbeat IS NOT NULL AS heard
  FROM phantom_nodes;

-- Adding the same host:port again is a no-op returning the same id ...
SELECT phantom_add_node('127.0.0.1', 25432);
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
-- ... unless it names it differently.
SELECT phantom_add_node('127.0.0.1', 25432, 'other');
-- Names are unique.
SELECT phantom_add_node('127.0.0.1', 25433, 'node2');
-- This node under another address is still this node.
SELECT phantom_add_node('localhost', 25431);

SELECT phantom_add_node('127.0.0.1', 25433, 'node3', region => 'eu-west', role => 'replica');
SELECT node_id, node_name, host, port, region, role, state FROM phantom_nodes;

-- The leader promotes the new nodes to voters (phantomdb.raft_voters = 3)
-- once they caught up.
\i sql/include/wait_for_voters.sql
SELECT node_id, role, leader_id, voters, learners FROM phantom_raft_status();
SELECT node_id, is_raft_voter FROM phantom_nodes;

-- Each change is a command in the metadata log, proposed by this node,
-- between the Raft membership changes and the leader's node state changes;
-- all are applied.
SELECT command_type, term > 0 AS has_term, origin, length(command) > 0 AS encoded, refused
  FROM phantomdb.metadata_log WHERE command_type NOT LIKE 'Raft:%' AND command_type <> 'SetNodeState'
 ORDER BY log_index;
SELECT m.applied_index = r.commit_index AS all_applied FROM phantomdb.metadata_applied m, phantom_raft_status() r;

-- Removing nodes, by name or by host:port.
SELECT phantom_remove_node('node9');
SELECT phantom_remove_node('127.0.0.1:5');
SELECT phantom_remove_node(NULL);
SELECT phantom_remove_node('127.0.0.1:25431');
SELECT phantom_remove_node('node3');
SELECT phantom_remove_node('127.0.0.1:25432');
SELECT node_id, node_name FROM phantom_nodes;
SELECT phantom_remove_node('127.0.0.1:25431');
SELECT node_id, node_name FROM phantom_nodes;

-- A removed node was told it is free: it can join again, under a new id.
SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT node_id, node_name FROM phantom_nodes;
SELECT phantom_remove_node('node2');
SELECT command_type FROM phantomdb.metadata_log
 WHERE command_type NOT LIKE 'Raft:%' AND command_type <> 'SetNodeState' ORDER BY log_index;

DROP EXTENSION phantomdb;
