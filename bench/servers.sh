# shellcheck shell=bash
# Sourced by the benchmarks: a plain single-node Postgres on PLAIN_PORT and a
# 3-node PhantomDB cluster on PHANTOM_PORT.. (phantomctl), started by
# start_servers with the same settings. Everything lives in WORK, removed
# (servers stopped) on exit, also on failure or Ctrl-C. The caller sets
# PLAIN_PORT, PHANTOM_PORT and the prefix of WORK's name (WORK_PREFIX)
# before sourcing.

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

# Starts both, empty: plain Postgres with the settings of a phantomctl node.
start_servers() {
	echo "== starting plain Postgres on $PLAIN_PORT and PhantomDB on $PHANTOM_PORT-$((PHANTOM_PORT + 2))"
	as_server "$PGBIN/initdb" -D "$WORK/plain" -U postgres -A trust -E UTF8 >/dev/null
	# The same settings as a phantomctl node, minus the extension.
	cat <<-CONF | as_server tee -a "$WORK/plain/postgresql.conf" >/dev/null
	port = $PLAIN_PORT
	listen_addresses = '127.0.0.1'
	unix_socket_directories = ''
	max_prepared_transactions = 64
	shared_buffers = 64MB
	CONF
	as_server "$PGBIN/pg_ctl" -D "$WORK/plain" -l "$WORK/plain.log" -w start >/dev/null
	"$REPO/bin/phantomctl" up --port "$PHANTOM_PORT" --dir "$WORK/cluster" >/dev/null
}
