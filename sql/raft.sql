-- The Raft surface on the test fixture (see sql/nodes.sql): this node's
-- member of the metadata group, leadership transfer, and the refusals.
CREATE EXTENSION phantomdb;

-- Before the cluster exists the worker runs, in no group.
SELECT node_id, cluster_id, role, term, leader_id, voters, learners FROM phantom_raft_status();
SELECT phantom_raft_transfer_leadership();
SELECT phantom_metadata_barrier();

SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');
\i sql/include/wait_for_voters.sql
SELECT node_id, role, leader_id, voters, learners, applied_index = commit_index AS all_applied
  FROM phantom_raft_status();
SELECT node_id, voter, match_index > 0 AS replicated, last_heard IS NOT NULL AS heard FROM phantomdb.raft_peers();

-- Transfers: to a node that does not exist, then to node2 and back to the
-- most up-to-date other voter when none is named.
SELECT phantom_raft_transfer_leadership('node9');
SELECT phantom_raft_transfer_leadership('node2');
SELECT node_id, role, leader_id FROM phantom_raft_status();
-- This node is a follower now; admin calls still work from it.
CREATE TABLE moved (id int PRIMARY KEY);
SELECT phantom_create_distributed_table('moved', 'id', 2);
SELECT count(*) FROM phantom_shards WHERE "table" = 'moved'::regclass;
DROP TABLE moved;
-- A barrier from a follower: a no-op entry, applied here when it returns.
SELECT phantom_metadata_barrier() > 0 AS barrier;
SELECT command_type, origin, refused FROM phantomdb.metadata_log ORDER BY log_index DESC LIMIT 1;
SELECT phantom_raft_transfer_leadership('127.0.0.1:25431');
SELECT node_id, role, leader_id FROM phantom_raft_status();

-- Messages for another cluster are refused, and only superusers may deliver.
DO $$
BEGIN
  PERFORM phantomdb.raft_deliver('00000000-0000-4000-8000-000000000000', '\x00');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  RAISE NOTICE '%', regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}\)', '<cluster id>)');
END $$;
CREATE ROLE regress_raft_user;
SET ROLE regress_raft_user;
SELECT phantomdb.raft_deliver('00000000-0000-4000-8000-000000000000', '\x00');
SELECT phantom_raft_transfer_leadership();
RESET ROLE;
DROP ROLE regress_raft_user;

-- Settings are checked.
ALTER SYSTEM SET phantomdb.raft_voters = 2;
ALTER SYSTEM SET phantomdb.raft_voters = 9;
ALTER SYSTEM SET phantomdb.seeds = 'db1:5432, db2';
ALTER SYSTEM SET phantomdb.seeds = 'db1:0';

SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
SELECT voters, learners FROM phantom_raft_status();
DROP EXTENSION phantomdb;
