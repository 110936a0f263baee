#!/usr/bin/env bash
# Multi-shard query benchmark (issue 5): single-node Postgres against a local
# 3-node PhantomDB cluster, on this machine, in the same run. Prints the
# median latency of a GROUP BY over pgbench_accounts and of a filtered
# count(*) (pgbench, 1 client), each as a ratio PhantomDB / plain Postgres
# (lower is better), and the rows/s of INSERT ... SELECT of 1,000,000 rows
# into a colocated table (higher is better). Also checks that both systems
# return the same results and prints PhantomDB's plans.
#
# Usage: bench/query_bench.sh [seconds per pgbench run (default 10)] [runs (default 3)]
# Run as root (servers run as user postgres) or as a user that can run them.
# Uses ports 26600 (plain Postgres) and 26601-26603 (PhantomDB) and a scratch
# directory it removes at the end. See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit # a failing command inside $(...) fails the script too

SECONDS_PER_RUN=${1:-10}
RUNS=${2:-3}
SCALE=10
ROWS=$((100000 * SCALE))
PLAIN_PORT=26600
PHANTOM_PORT=26601
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || { echo "seconds per run must be a positive integer, not '$SECONDS_PER_RUN'" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "runs must be a positive integer, not '$RUNS'" >&2; exit 2; }

WORK_PREFIX="phantom-qbench"
# shellcheck source=bench/pgbench_servers.sh
source "$(dirname "$0")/pgbench_servers.sh"

# A non-zero balance on every 7th account, so that the count below and the
# sums of the GROUP BY are not trivial. The same statement on both systems.
UPDATE_SQL='UPDATE pgbench_accounts SET abalance = aid % 1000 + 1 WHERE aid % 7 = 0'
for port in "$PLAIN_PORT" "$PHANTOM_PORT"; do
	psql_at "$port" -c "$UPDATE_SQL" >/dev/null
	psql_at "$port" -c 'VACUUM ANALYZE pgbench_accounts' >/dev/null
	psql_at "$port" -c 'CHECKPOINT' >/dev/null
done

GROUPBY_SQL='SELECT bid, count(*), sum(abalance) FROM pgbench_accounts GROUP BY bid'
COUNT_SQL='SELECT count(*) FROM pgbench_accounts WHERE abalance <> 0'
echo "$GROUPBY_SQL;" >"$WORK/groupby.sql"
echo "$COUNT_SQL;" >"$WORK/count.sql"
chmod 644 "$WORK"/*.sql

echo "== results (plain Postgres vs PhantomDB)"
MISMATCH=0
compare() { # label sql
	local plain phantom
	plain=$(psql_at "$PLAIN_PORT" -At -c "$2")
	phantom=$(psql_at "$PHANTOM_PORT" -At -c "$2")
	if [[ $plain == "$phantom" ]]; then
		echo "$1: same on both ($(wc -l <<<"$plain") rows; first: $(head -n 1 <<<"$plain"))"
	else
		MISMATCH=1
		echo "$1: DIFFERENT"
		diff <(echo "$plain") <(echo "$phantom") | sed 's/^/    /' || true
	fi
}
compare "GROUP BY bid" "$GROUPBY_SQL ORDER BY bid"
compare "count(abalance <> 0)" "$COUNT_SQL"

echo "== PhantomDB plans (EXPLAIN (COSTS OFF), node 1)"
echo "-- $GROUPBY_SQL"
psql_at "$PHANTOM_PORT" -c "EXPLAIN (COSTS OFF) $GROUPBY_SQL"
echo "-- $COUNT_SQL"
psql_at "$PHANTOM_PORT" -c "EXPLAIN (COSTS OFF) $COUNT_SQL"

# Mean latency in ms of one pgbench run of SCRIPT, 1 client. With SECONDS
# empty, one transaction (warm-up).
latency() { # port system script [seconds]
	local out lat rc=0
	if [[ -n ${4:-} ]]; then
		out=$(as_server "$PGBIN/pgbench" -n -c 1 -T "$4" -f "$3" -h 127.0.0.1 -p "$1" -U postgres postgres 2>&1) || rc=$?
	else
		out=$(as_server "$PGBIN/pgbench" -n -c 1 -t 1 -f "$3" -h 127.0.0.1 -p "$1" -U postgres postgres 2>&1) || rc=$?
	fi
	lat=$(awk '/^latency average = / { print $4 }' <<<"$out")
	if ((rc != 0)) || [[ -z $lat ]]; then
		echo "pgbench on port $1 with $3 failed:" >&2
		echo "$out" >&2
		return 1
	fi
	echo "$lat"
}

echo "== latency, pgbench -c 1 -T $SECONDS_PER_RUN, $RUNS runs (ms)"
for workload in groupby count; do
	latency "$PLAIN_PORT" plain "$WORK/$workload.sql" >/dev/null
	latency "$PHANTOM_PORT" phantom "$WORK/$workload.sql" >/dev/null
	alternate_runs "$workload" ms latency "$WORK/$workload.sql" "$SECONDS_PER_RUN"
done

echo "== INSERT INTO accounts_copy SELECT * FROM pgbench_accounts ($ROWS rows)"
insert_ms() { # port system
	local out ms count
	psql_at "$1" -c "CREATE TABLE accounts_copy (LIKE pgbench_accounts INCLUDING ALL)"
	if [[ $2 == phantom ]]; then
		psql_at "$1" -c "SELECT phantom_create_distributed_table('accounts_copy', 'aid', 32, colocate_with => 'pgbench_accounts')" >/dev/null
	fi
	out=$(psql_at "$1" -c '\timing on' -c "INSERT INTO accounts_copy SELECT * FROM pgbench_accounts")
	ms=$(awk '/^Time: / { print $2 }' <<<"$out")
	count=$(psql_at "$1" -At -c "SELECT count(*) FROM accounts_copy")
	if [[ $count != "$ROWS" ]]; then
		echo "port $1: accounts_copy holds $count rows after INSERT ... SELECT, not $ROWS" >&2
		touch "$WORK/mismatch" # this runs in a subshell
	fi
	psql_at "$1" -c "DROP TABLE accounts_copy"
	echo "$ms"
}
alternate_runs insert ms insert_ms

echo
echo "== median latency, PhantomDB / single-node Postgres (lower is better)"
awk -v g1="${RESULT[groupby.phantom]}" -v g0="${RESULT[groupby.plain]}" \
	-v c1="${RESULT[count.phantom]}" -v c0="${RESULT[count.plain]}" 'BEGIN {
	printf "GROUP BY bid     %10.1f / %10.1f ms   ratio %.2f  (target <= 1.5)\n", g1, g0, g1 / g0
	printf "count WHERE      %10.1f / %10.1f ms   ratio %.2f  (target <= 1.5)\n", c1, c0, c1 / c0
}'
echo "== median INSERT ... SELECT rate, PhantomDB / single-node Postgres (higher is better)"
awk -v i1="${RESULT[insert.phantom]}" -v i0="${RESULT[insert.plain]}" -v n="$ROWS" 'BEGIN {
	printf "INSERT SELECT 1M %10.0f / %10.0f rows/s ratio %.2f  (reported, no target)\n", n * 1000 / i1, n * 1000 / i0, i0 / i1
}'
if ((MISMATCH)) || [[ -e $WORK/mismatch ]]; then
	echo "WARNING: the two systems returned different results (see above)"
	exit 1
fi
