-- phantom_cluster_health() on the test fixture (see sql/nodes.sql). Cluster
-- ids are random, so they are masked.
CREATE EXTENSION phantomdb;
CREATE FUNCTION health() RETURNS TABLE ("check" text, ok boolean, detail text) LANGUAGE sql AS $$
  SELECT "check", ok, regexp_replace(detail, '[0-9a-f]{8}-[0-9a-f-]{27}', '<cluster id>')
    FROM phantom_cluster_health()
$$;

-- Before first use.
SELECT * FROM health();

SELECT phantom_add_node('127.0.0.1', 25432, 'node2');
SELECT phantom_add_node('127.0.0.1', 25433, 'node3');
\i sql/include/wait_for_voters.sql
SELECT * FROM health();

-- Everything is healthy: no failing check.
SELECT count(*) AS failing FROM phantom_cluster_health() WHERE NOT ok;

SELECT phantom_remove_node('node2');
SELECT phantom_remove_node('node3');
DROP FUNCTION health();
DROP EXTENSION phantomdb;
