#!/usr/bin/env bash
# Distributed transaction benchmark (issue 6): single-node Postgres against a
# local 3-node PhantomDB cluster, on this machine, in the same run.
#
# 1. TPS of BEGIN; UPDATE aid1; UPDATE aid2; COMMIT; where, on PhantomDB,
#    aid1's shard is on node2 and aid2's on node3, so every transaction is a
#    two-phase commit with two remote participants (the worst case: the
#    coordinator holds neither). The same accounts and the same script run on
#    plain Postgres; the keys are drawn from a small local table on both.
#    pgbench -M prepared, 8 clients; median of RUNS runs; ratio printed.
# 2. Recovery: 8 such transactions are stopped after the coordinator's commit
#    record (phantomdb.fault_injection), the coordinator's postmaster is
#    killed with SIGKILL and started again; printed is the time from the
#    restart until no prepared transaction is left on any node.
#
# Usage: bench/transaction_bench.sh [seconds per pgbench run (default 20)] [runs (default 3)]
# Run as root (servers run as user postgres) or as a user that can run them.
# Uses ports 26510 (plain Postgres) and 26511-26513 (PhantomDB) and a scratch
# directory it removes at the end. See bench/README.md.
set -euo pipefail

SECONDS_PER_RUN=${1:-20}
RUNS=${2:-3}
SCALE=10
CLIENTS=8
PLAIN_PORT=26510
PHANTOM_PORT=26511
WORK_PREFIX="phantom-txbench"
# shellcheck source=bench/pgbench_servers.sh
source "$(dirname "$0")/pgbench_servers.sh"

# 1000 accounts whose shards are on node2 and 1000 on node3.
psql_at "$PHANTOM_PORT" <<'SQL' >/dev/null
CREATE TABLE bench_keys (node text, n int, aid int, PRIMARY KEY (node, n));
INSERT INTO bench_keys
SELECT node, row_number() OVER (PARTITION BY node ORDER BY aid), aid
  FROM (SELECT a.aid, s.node
          FROM generate_series(1, 100000) a(aid)
          JOIN phantom_shards s ON s.shard_id = phantom_shard_for_value('pgbench_accounts', a.aid)
         WHERE s.node IN ('node2', 'node3')) k;
DELETE FROM bench_keys WHERE n > 1000;
SQL
psql_at "$PHANTOM_PORT" -c "COPY bench_keys TO '$WORK/keys.copy'"
psql_at "$PLAIN_PORT" -c "CREATE TABLE bench_keys (node text, n int, aid int, PRIMARY KEY (node, n))" \
	-c "COPY bench_keys FROM '$WORK/keys.copy'"
for port in "$PLAIN_PORT" "$PHANTOM_PORT"; do psql_at "$port" -c 'VACUUM ANALYZE' -c 'CHECKPOINT' >/dev/null; done

cat >"$WORK/transfer.sql" <<'SQL'
\set n1 random(1, 1000)
\set n2 random(1, 1000)
\set delta random(-5000, 5000)
SELECT aid AS aid1 FROM bench_keys WHERE node = 'node2' AND n = :n1 \gset
SELECT aid AS aid2 FROM bench_keys WHERE node = 'node3' AND n = :n2 \gset
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance - :delta WHERE aid = :aid1;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid2;
COMMIT;
SQL
chmod 644 "$WORK"/*.sql

tps() { # port system script
	as_server "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" \
		-f "$3" -h 127.0.0.1 -p "$1" -U postgres postgres 2>/dev/null |
		awk '/^tps = / { print $3 }'
}
alternate_runs transfer tps tps "$WORK/transfer.sql"

# Money moved between accounts, never made or lost: the sum is unchanged.
sum_plain=$(psql_at "$PLAIN_PORT" -Atc 'SELECT sum(abalance) FROM pgbench_accounts')
sum_phantom=$(psql_at "$PHANTOM_PORT" -Atc 'SELECT sum(abalance) FROM pgbench_accounts')
echo "sum of balances after the runs: plain $sum_plain, phantomdb $sum_phantom (both must be 0)"

echo "== recovery after a coordinator crash with 8 transactions in doubt"
node1="$WORK/cluster/node1/data"
pids=()
for i in $(seq 1 8); do
	aid1=$(psql_at "$PHANTOM_PORT" -Atc "SELECT aid FROM bench_keys WHERE node = 'node2' AND n = $i")
	aid2=$(psql_at "$PHANTOM_PORT" -Atc "SELECT aid FROM bench_keys WHERE node = 'node3' AND n = $i")
	as_server "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PHANTOM_PORT" -U postgres -d postgres \
		-c "SET phantomdb.fault_injection = 'after_commit_record:pause'" -c 'BEGIN' \
		-c "UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid = $aid1" \
		-c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = $aid2" \
		-c 'COMMIT' >/dev/null 2>&1 &
	pids+=($!)
done
in_doubt() {
	local total=0 port
	for port in $((PHANTOM_PORT + 1)) $((PHANTOM_PORT + 2)); do
		total=$((total + $(psql_at "$port" -Atc 'SELECT count(*) FROM pg_prepared_xacts')))
	done
	echo "$total"
}
for _ in $(seq 1 100); do
	[[ $(grep -c 'paused at fault point after_commit_record' "$WORK/cluster/node1/server.log" 2>/dev/null) -ge 8 ]] && break
	sleep 0.1
done
echo "prepared transactions waiting on node2 and node3: $(in_doubt)"
kill -9 "$(head -1 "$node1/postmaster.pid")"
wait "${pids[@]}" 2>/dev/null || true
while as_server "$PGBIN/pg_ctl" -D "$node1" status >/dev/null 2>&1; do sleep 0.05; done
start=$(date +%s.%N)
until as_server "$PGBIN/pg_ctl" -D "$node1" -l "$WORK/cluster/node1/server.log" -w start >/dev/null 2>&1; do sleep 0.1; done
ready=$(date +%s.%N)
while [[ $(in_doubt) != 0 ]]; do sleep 0.05; done
done_at=$(date +%s.%N)
awk -v s="$start" -v r="$ready" -v d="$done_at" 'BEGIN {
	printf "restart took %.2f s; every in-doubt transaction resolved %.2f s after the restart began (%.2f s after the node was ready; target under 5 s)\n", r - s, d - s, d - r
}'
sum_phantom=$(psql_at "$PHANTOM_PORT" -Atc 'SELECT sum(abalance) FROM pgbench_accounts')
echo "sum of balances after recovery: $sum_phantom (must still be 0)"

echo
echo "== median, as a ratio to single-node Postgres (higher is better)"
awk -v t1="${RESULT[transfer.phantom]}" -v t0="${RESULT[transfer.plain]}" 'BEGIN {
	printf "2-node transfer  %8.0f / %8.0f tps   ratio %.2f  (target 0.40)\n", t1, t0, t1 / t0
}'
