-- same_rows(query): runs query on the distributed tables (schema dist) and
-- on local copies (schema loc), and says whether the two results hold the
-- same rows (as multisets). Included by the differential suites.
CREATE FUNCTION same_rows(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  distributed bigint;
  differing bigint;
BEGIN
  PERFORM set_config('search_path', 'dist', true);
  EXECUTE 'CREATE TEMP TABLE result_dist AS ' || query;
  PERFORM set_config('search_path', 'loc', true);
  EXECUTE 'CREATE TEMP TABLE result_loc AS ' || query;
  PERFORM set_config('search_path', 'public', true);
  SELECT count(*) INTO distributed FROM result_dist;
  SELECT count(*) INTO differing
    FROM ((SELECT * FROM result_dist EXCEPT ALL SELECT * FROM result_loc)
          UNION ALL (SELECT * FROM result_loc EXCEPT ALL SELECT * FROM result_dist)) d;
  DROP TABLE result_dist, result_loc;
  RETURN CASE WHEN differing = 0 THEN 'same ' || distributed || ' row(s)' ELSE differing || ' row(s) differ' END;
END $$;
