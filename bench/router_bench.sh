#!/usr/bin/env bash
# Router and ingest benchmark (issue 4): single-node Postgres against a local
# 3-node PhantomDB cluster, on this machine, in the same run. Prints median
# TPS of a point SELECT and an UPDATE by aid (pgbench -M prepared, 8 clients)
# and the time of COPY of 1,000,000 rows, each as a ratio to plain Postgres.
#
# Usage: bench/router_bench.sh [seconds per pgbench run (default 20)] [runs (default 3)]
# Run as root (servers run as user postgres) or as a user that can run them.
# Uses ports 26500 (plain Postgres) and 26501-26503 (PhantomDB) and a scratch
# directory it removes at the end. See bench/README.md.
set -euo pipefail

SECONDS_PER_RUN=${1:-20}
RUNS=${2:-3}
SCALE=10
CLIENTS=8
PLAIN_PORT=26500
PHANTOM_PORT=26501
WORK_PREFIX="phantom-bench"
# shellcheck source=bench/pgbench_servers.sh
source "$(dirname "$0")/pgbench_servers.sh"
for port in "$PLAIN_PORT" "$PHANTOM_PORT"; do psql_at "$port" -c 'CHECKPOINT' >/dev/null; done

cat >"$WORK/select.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
cat >"$WORK/update.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SQL
chmod 644 "$WORK"/*.sql

tps() { # port system script
	as_server "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -s "$SCALE" \
		-f "$3" -h 127.0.0.1 -p "$1" -U postgres postgres 2>/dev/null |
		awk '/^tps = / { print $3 }'
}

for workload in select update; do alternate_runs "$workload" tps tps "$WORK/$workload.sql"; done

echo "== COPY of 1,000,000 rows"
psql_at "$PLAIN_PORT" -c "COPY (SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, 1000000) g) TO '$WORK/accounts.copy'"
copy_ms() { # port system
	psql_at "$1" -c "CREATE TABLE copy_target (LIKE pgbench_accounts INCLUDING ALL)"
	if [[ $2 == phantom ]]; then psql_at "$1" -c "SELECT phantom_create_distributed_table('copy_target', 'aid', 32)" >/dev/null; fi
	psql_at "$1" -c '\timing on' -c "COPY copy_target FROM '$WORK/accounts.copy'" | awk '/^Time: / { print $2 }'
	psql_at "$1" -c "DROP TABLE copy_target"
}
alternate_runs copy ms copy_ms

echo
echo "== median, as a ratio to single-node Postgres (higher is better)"
awk -v s1="${RESULT[select.phantom]}" -v s0="${RESULT[select.plain]}" \
	-v u1="${RESULT[update.phantom]}" -v u0="${RESULT[update.plain]}" \
	-v c1="${RESULT[copy.phantom]}" -v c0="${RESULT[copy.plain]}" 'BEGIN {
	printf "point SELECT  %8.0f / %8.0f tps   ratio %.2f  (target 0.60)\n", s1, s0, s1 / s0
	printf "UPDATE        %8.0f / %8.0f tps   ratio %.2f  (target 0.70)\n", u1, u0, u1 / u0
	printf "COPY 1M rows  %8.0f / %8.0f ms    ratio %.2f  (target 0.80)\n", c1, c0, c0 / c1
}'
