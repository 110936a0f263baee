# shellcheck shell=bash
# shellcheck disable=SC2034 # RESULT is read by the scripts that source this file
# Sourced by the pgbench benchmarks: the servers of servers.sh, both loaded
# with pgbench scale SCALE; on PhantomDB pgbench_accounts and pgbench_history
# are distributed by aid with 32 shards and branches/tellers are reference
# tables. The caller sets PLAIN_PORT, PHANTOM_PORT, SCALE and WORK_PREFIX
# before sourcing.

# shellcheck source=bench/servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# alternate_runs NAME UNIT COMMAND [ARGS...]: RUNS runs of `COMMAND PORT SYSTEM ARGS`
# on each system (SYSTEM is plain or phantom), alternating so that drift on
# the machine hits both; prints every run and leaves the medians in
# RESULT[NAME.plain] and RESULT[NAME.phantom].
declare -A RESULT
alternate_runs() {
	local name=$1 unit=$2 run
	local -a plain=() phantom=()
	shift 2
	for ((run = 1; run <= RUNS; run++)); do
		plain+=("$("$1" "$PLAIN_PORT" plain "${@:2}")")
		phantom+=("$("$1" "$PHANTOM_PORT" phantom "${@:2}")")
	done
	RESULT[$name.plain]=$(printf '%s\n' "${plain[@]}" | median)
	RESULT[$name.phantom]=$(printf '%s\n' "${phantom[@]}" | median)
	echo "$name: plain ${plain[*]} $unit; phantomdb ${phantom[*]} $unit"
}

start_servers

echo "== loading pgbench scale $SCALE"
as_server "$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PLAIN_PORT" -U postgres postgres >/dev/null 2>&1
as_server "$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PHANTOM_PORT" -U postgres postgres >/dev/null 2>&1
psql_at "$PHANTOM_PORT" <<'SQL' >/dev/null
SELECT phantom_create_reference_table('pgbench_branches');
SELECT phantom_create_reference_table('pgbench_tellers');
SELECT phantom_create_distributed_table('pgbench_accounts', 'aid', 32);
SELECT phantom_create_distributed_table('pgbench_history', 'aid', 32, colocate_with => 'pgbench_accounts');
SQL
