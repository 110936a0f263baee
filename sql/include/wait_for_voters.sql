\set ECHO none
-- Waits (up to 30 s) until this node's Raft group has as many voters as
-- there are nodes, up to phantomdb.raft_voters: the leader promotes caught-up
-- learners a heartbeat or two after they become active.
DO $$
DECLARE
  wanted int := least(current_setting('phantomdb.raft_voters')::int, (SELECT count(*) FROM phantom_nodes));
BEGIN
  FOR i IN 1 .. 3000 LOOP
    EXIT WHEN (SELECT coalesce(array_length(voters, 1), 0) FROM phantom_raft_status()) = wanted
          AND (SELECT count(*) FROM phantom_raft_status() r, unnest(r.voters || r.learners) m) =
              (SELECT count(*) FROM phantom_nodes);
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;
\set ECHO all
