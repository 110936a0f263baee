# shellcheck shell=bash
# shellcheck disable=SC2034 # RESULT is read by the scripts that source this file
# Sourced by the benchmarks: a plain single-node Postgres on PLAIN_PORT and a
# 3-node PhantomDB cluster on PHANTOM_PORT.. (phantomctl), both loaded with
# pgbench scale SCALE; on PhantomDB pgbench_accounts and pgbench_history are
# distributed by aid with 32 shards and branches/tellers are reference
# tables. Everything lives in WORK, removed (servers stopped) on exit, also
# on failure or Ctrl-C. The caller sets PLAIN_PORT, PHANTOM_PORT, SCALE and
# the prefix of WORK's name (WORK_PREFIX) before sourcing.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d "/tmp/$WORK_PREFIX.XXXXXX")
chmod 755 "$WORK"

if [[ $(id -u) == 0 ]]; then
	as_server() { (cd / && runuser -u postgres -- env TMPDIR=/tmp "$@"); }
	chown postgres "$WORK"
else
	as_server() { "$@"; }
fi

cleanup() {
	trap '' INT TERM
	as_server "$PGBIN/pg_ctl" -D "$WORK/plain" -m fast stop >/dev/null 2>&1 || true
	"$REPO/bin/phantomctl" --dir "$WORK/cluster" destroy >/dev/null 2>&1 || true
	# If phantomctl could not stop a node, do not delete a running server's files.
	local data
	for data in "$WORK"/cluster/node*/data; do
		[[ -f $data/postmaster.pid ]] && as_server "$PGBIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_at() { as_server "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"; }
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

echo "== starting plain Postgres on $PLAIN_PORT and PhantomDB on $PHANTOM_PORT-$((PHANTOM_PORT + 2))"
as_server "$PGBIN/initdb" -D "$WORK/plain" -U postgres -A trust -E UTF8 >/dev/null
# The same settings as a phantomctl node, minus the extension.
cat <<CONF | as_server tee -a "$WORK/plain/postgresql.conf" >/dev/null
port = $PLAIN_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_prepared_transactions = 64
shared_buffers = 64MB
CONF
as_server "$PGBIN/pg_ctl" -D "$WORK/plain" -l "$WORK/plain.log" -w start >/dev/null
"$REPO/bin/phantomctl" up --port "$PHANTOM_PORT" --dir "$WORK/cluster" >/dev/null

echo "== loading pgbench scale $SCALE"
as_server "$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PLAIN_PORT" -U postgres postgres >/dev/null 2>&1
as_server "$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PHANTOM_PORT" -U postgres postgres >/dev/null 2>&1
psql_at "$PHANTOM_PORT" <<'SQL' >/dev/null
SELECT phantom_create_reference_table('pgbench_branches');
SELECT phantom_create_reference_table('pgbench_tellers');
SELECT phantom_create_distributed_table('pgbench_accounts', 'aid', 32);
SELECT phantom_create_distributed_table('pgbench_history', 'aid', 32, colocate_with => 'pgbench_accounts');
SQL
