#!/usr/bin/env bash
# Metadata Raft benchmark (issue 7), on a local 3-node PhantomDB cluster with
# default settings (phantomdb.raft_election_timeout_ms 1000, heartbeat 100):
#
# 1. Commit latency of a no-op metadata change: CALLS calls of
#    phantom_metadata_barrier() on a follower (proposed, forwarded to the
#    leader, committed by a majority, applied on the caller's node), p50 and
#    p99; and, as the single-node baseline on the same machine in the same
#    run, the latency of a durable one-row INSERT + COMMIT on plain Postgres.
# 2. Failover: TRIALS times, the leader's postmaster is killed with SIGKILL;
#    measured is the time from the kill to the first phantom_metadata_barrier()
#    that succeeds on a survivor (a new leader elected and committing). The
#    killed node is started again and catches up before the next trial.
#
# Usage: bench/raft_bench.sh [trials (default 10)] [calls (default 500)]
# Run as root (servers run as user postgres) or as a user that can run them.
# Uses ports 26520 (plain Postgres) and 26521-26523 (PhantomDB) and a
# scratch directory it removes at the end. See bench/README.md.
set -euo pipefail

TRIALS=${1:-10}
CALLS=${2:-500}
PLAIN_PORT=26520
PHANTOM_PORT=26521
WORK_PREFIX="phantom-raftbench"
# shellcheck source=bench/servers.sh
source "$(dirname "$0")/servers.sh"
now() { date +%s.%N; }

start_servers
PORTS=("$PHANTOM_PORT" "$((PHANTOM_PORT + 1))" "$((PHANTOM_PORT + 2))")

# psql_at, printing bare values.
psql_at_values() { psql_at "$1" -At "${@:2}"; }

# Per-call latencies (ms) of `call` repeated CALLS times, as p50 and p99.
LATENCY_SQL="
CREATE OR REPLACE PROCEDURE bench_latency(call text, calls int, INOUT p50 float8 = 0, INOUT p99 float8 = 0)
LANGUAGE plpgsql AS \$\$
DECLARE
  started timestamptz;
  took float8[] := '{}';
BEGIN
  FOR i IN 1 .. calls LOOP
    started := clock_timestamp();
    EXECUTE call;
    COMMIT;
    took := took || extract(epoch FROM clock_timestamp() - started) * 1000;
  END LOOP;
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t), percentile_cont(0.99) WITHIN GROUP (ORDER BY t)
    INTO p50, p99 FROM unnest(took) t;
END \$\$;"

leader_port() {
	local port id
	for port in "${PORTS[@]}"; do
		id=$(psql_at_values "$port" -c 'SELECT leader_id FROM phantom_raft_status()' 2>/dev/null || true)
		[[ -n $id ]] && { echo "${PORTS[id - 1]}"; return; }
	done
	return 1
}

# Waits until every node reports one leader, three voters and its log applied.
settled() {
	local port row leader=
	for port in "${PORTS[@]}"; do
		row=$(psql_at_values "$port" -c "SELECT leader_id, array_length(voters, 1), applied_index >= commit_index
		                         FROM phantom_raft_status()" 2>/dev/null) || return 1
		[[ $row == *"|3|t" ]] || return 1
		[[ -z $leader || $leader == "${row%%|*}" ]] || return 1
		leader=${row%%|*}
	done
}
wait_settled() {
	for _ in $(seq 1 600); do settled && return; sleep 0.1; done
	echo "the cluster did not settle" >&2
	exit 1
}

wait_settled
echo "== commit latency, $CALLS calls each"
psql_at_values "$PLAIN_PORT" -c "CREATE TABLE bench_commit (id serial PRIMARY KEY, at timestamptz)" -c "$LATENCY_SQL"
plain=$(psql_at_values "$PLAIN_PORT" -c "CALL bench_latency('INSERT INTO bench_commit (at) VALUES (now())', $CALLS)")
leader=$(leader_port)
for port in "${PORTS[@]}"; do [[ $port != "$leader" ]] && follower=$port; done
psql_at_values "$follower" -c "$LATENCY_SQL"
phantom=$(psql_at_values "$follower" -c "CALL bench_latency('SELECT phantom_metadata_barrier()', $CALLS)")
printf 'plain Postgres durable commit:        p50 %.2f ms  p99 %.2f ms\n' "${plain%%|*}" "${plain##*|}"
printf 'metadata no-op commit (on a follower): p50 %.2f ms  p99 %.2f ms\n' "${phantom%%|*}" "${phantom##*|}"
awk -v a="${phantom%%|*}" -v b="${plain%%|*}" 'BEGIN { printf "ratio (p50, metadata / plain): %.1f\n", a / b }'

echo "== failover, $TRIALS trials"
took=()
for trial in $(seq 1 "$TRIALS"); do
	wait_settled
	leader=$(leader_port)
	data="$WORK/cluster/node$((leader - PHANTOM_PORT + 1))/data"
	pid=$(head -1 "$data/postmaster.pid")
	start=$(now)
	kill -9 "$pid"
	done_at=
	while [[ -z $done_at ]]; do
		for port in "${PORTS[@]}"; do
			[[ $port == "$leader" ]] && continue
			if psql_at_values "$port" -c 'SELECT phantom_metadata_barrier()' >/dev/null 2>&1; then
				done_at=$(now)
				break
			fi
		done
	done
	took+=("$(awk -v a="$start" -v b="$done_at" 'BEGIN { printf "%.3f", b - a }')")
	echo "trial $trial: leader on port $leader killed, metadata commits again after ${took[-1]} s"
	# The killed postmaster's children may hold its shared memory a moment.
	for attempt in $(seq 1 50); do
		as_server "$PGBIN/pg_ctl" -D "$data" -l "$data/../server.log" -w start >/dev/null 2>&1 && break
		((attempt == 50)) && { echo "could not restart $data" >&2; exit 1; }
		sleep 0.2
	done
done
printf '%s\n' "${took[@]}" | sort -g | awk '{ v[NR] = $1 } END {
	printf "failover: p50 %.2f s  max %.2f s  (%d trials)\n", v[int((NR + 1) / 2)], v[NR], NR }'
