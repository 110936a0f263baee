# Distributed deadlock detection: a cycle of lock waits that crosses nodes
# is broken within seconds by cancelling its youngest transaction, with a
# distributed-deadlock error (40P01); the other transaction goes through. A
# deadlock within one node stays Postgres's (its own "deadlock detected"),
# and a transaction that merely waits a long time is never cancelled.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

sub node
{
	my $node = new_node($_[0], timeout_ms => 5000);
	$node->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
	return $node;
}

my ($node1, $node2, $node3) = map { node("node$_") } 1 .. 3;
$node1->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$_->port}, '${\$_->name}')")
  for ($node2, $node3);
$node1->safe_psql('postgres', q{
	CREATE TABLE accounts (id bigint PRIMARY KEY, balance integer NOT NULL);
	SELECT phantom_create_distributed_table('accounts', 'id', 6);
	INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 100) g;
});

# The n-th key (from 0) whose shard is on the named node.
sub nth_key_on
{
	my ($node_name, $n) = @_;
	return $node1->safe_psql('postgres', qq{
		SELECT k FROM generate_series(1, 100) k
		 WHERE (SELECT node FROM phantom_shards WHERE shard_id = phantom_shard_for_value('accounts', k)) = '$node_name'
		 ORDER BY k LIMIT 1 OFFSET ${\($n // 0)}});
}
my ($key1, $key2, $key2b, $key3) = (nth_key_on("node1"), nth_key_on("node2"), nth_key_on("node2", 1), nth_key_on("node3"));
ok($key1 && $key2 && $key2b && $key3, "key $key1 on node1, $key2 and $key2b on node2, $key3 on node3");

sub balance
{
	return $node1->safe_psql('postgres', "SELECT balance FROM accounts WHERE id = $_[0]");
}

sub session
{
	my $session = $node1->background_psql('postgres', on_error_stop => 0);
	$session->query_safe('\set VERBOSITY verbose');
	return $session;
}

# Sends a statement that is expected to block; returns at once.
sub send_blocking
{
	my ($session, $sql) = @_;
	$session->query_until(qr/sent/, "\\echo sent\n$sql;\n");
}

# --- A cycle across nodes: A waits on node3 for B, B on node2 for A. ---
my $a = session();
my $b = session();
$a->query_safe('BEGIN');
$a->query_safe("UPDATE accounts SET balance = balance + 1 WHERE id = $key2");
sleep(0.1);    # B starts later: it is the younger transaction
$b->query_safe('BEGIN');
$b->query_safe("UPDATE accounts SET balance = balance + 10 WHERE id = $key3");
send_blocking($a, "UPDATE accounts SET balance = balance + 1 WHERE id = $key3");
$node3->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'phantomdb'")
  or die 'A never waited on node3';
my $started = time;
send_blocking($b, "UPDATE accounts SET balance = balance + 10 WHERE id = $key2");

# B's UPDATE ends (the query after it waits for it).
$b->{stderr} = '';
$b->query("SELECT 'b after'");
my $elapsed = time - $started;
like(
	$b->{stderr},
	qr/ERROR:  40P01: canceling the transaction since it was involved in a distributed deadlock/,
	'the younger transaction gets the distributed deadlock error with SQLSTATE 40P01');
like($b->{stderr}, qr/DETAIL:  Distributed transaction 1:\d+ was the youngest/, 'the detail names it');
cmp_ok($elapsed, '<', 10, "the deadlock was broken within 10 s (took ${\sprintf('%.1f', $elapsed)} s)");
$b->{stderr} = '';
$b->query_safe('ROLLBACK');

$a->{stderr} = '';
$a->query("SELECT 'a after'");
is($a->{stderr}, '', 'the older transaction was not cancelled: its UPDATE went through');
$a->query_safe('COMMIT');
is(balance($key2), '101', 'the older transaction committed on node2');
is(balance($key3), '101', 'and on node3; the victim\'s write is gone');
ok($node1->log_contains('phantomdb: cancelled distributed transaction 1:\d+ to break a distributed deadlock'),
	'the coordinator logs the cancellation');

# --- A plain local transaction inside a cross-node cycle: A waits on node2
# for B, B waits on node1 for the local session L, L on node1 for A. ---
$node1->safe_psql('postgres', 'CREATE TABLE notes (id integer PRIMARY KEY, n integer); INSERT INTO notes VALUES (1, 0)');
my $l = session();
$a->query_safe('BEGIN');
$a->query_safe("UPDATE accounts SET balance = balance + 1 WHERE id = $key1");
sleep(0.1);
$b->query_safe('BEGIN');
$b->query_safe("UPDATE accounts SET balance = balance + 10 WHERE id = $key2");
$l->query_safe('BEGIN');
$l->query_safe('UPDATE notes SET n = n + 1 WHERE id = 1');
send_blocking($a, "UPDATE accounts SET balance = balance + 1 WHERE id = $key2");
$node2->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'phantomdb'")
  or die 'A never waited on node2';
send_blocking($l, "UPDATE accounts SET balance = balance + 100 WHERE id = $key1");
$node1->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
  or die 'L never waited on node1';
send_blocking($b, 'UPDATE notes SET n = n + 10 WHERE id = 1');
$b->{stderr} = '';
$b->query("SELECT 'b after'");
like($b->{stderr}, qr/ERROR:  40P01: canceling the transaction since it was involved in a distributed deadlock/,
	'with a local transaction on the cycle, the younger distributed transaction is cancelled');
$b->{stderr} = '';
$b->query_safe('ROLLBACK');
$a->{stderr} = '';
$a->query("SELECT 'a after'");
is($a->{stderr}, '', 'the older distributed transaction goes on');
$a->query_safe('COMMIT');
$l->{stderr} = '';
$l->query("SELECT 'l after'");
is($l->{stderr}, '', 'the local transaction was not cancelled either');
$l->query_safe('COMMIT');
is(balance($key1), '201', 'A and then L updated the row on node1');
is(balance($key2), '102', 'A updated the row on node2, B\'s update is gone');
is($node1->safe_psql('postgres', 'SELECT n FROM notes'), '1', 'only L updated the local table');
$l->quit;

# --- A deadlock within node2 is left to node2's Postgres. ---
# node2 looks for it only after 3 s, long after the distributed detector has
# seen the cycle in two passes: it must still leave it alone.
$node2->safe_psql('postgres', "ALTER SYSTEM SET deadlock_timeout = '3s'; SELECT pg_reload_conf()");
my $log_offset = -s $node1->logfile;
$a->query_safe('BEGIN');
$a->query_safe("UPDATE accounts SET balance = balance + 1 WHERE id = $key2");
sleep(0.1);
$b->query_safe('BEGIN');
$b->query_safe("UPDATE accounts SET balance = balance + 10 WHERE id = $key2b");
send_blocking($a, "UPDATE accounts SET balance = balance + 1 WHERE id = $key2b");
$node2->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'phantomdb'")
  or die 'A never waited on node2';
send_blocking($b, "UPDATE accounts SET balance = balance + 10 WHERE id = $key2");
$a->{stderr} = '';
$b->{stderr} = '';
$a->query("SELECT 'a after'");
$b->query("SELECT 'b after'");
my $errors = join('', $a->{stderr}, $b->{stderr});
like($errors, qr/40P01: .*deadlock detected/, 'Postgres on node2 reports the local deadlock');
unlike($errors, qr/distributed deadlock/, 'the distributed detector stays out of it');
is(scalar(grep { $_ ne '' } ($a->{stderr}, $b->{stderr})), 1, 'exactly one transaction failed');
$a->query('ROLLBACK');
$b->query('ROLLBACK');
$a->{stderr} = $b->{stderr} = '';
unlike(slurp_file($node1->logfile, $log_offset), qr/cancelled distributed transaction/,
	'no transaction was cancelled by the distributed detector');

# --- A long wait is not a deadlock. ---
$log_offset = -s $node1->logfile;
$a->query_safe('BEGIN');
$a->query_safe("UPDATE accounts SET balance = balance + 1 WHERE id = $key2");
$b->query_safe('BEGIN');
send_blocking($b, "UPDATE accounts SET balance = balance + 10 WHERE id = $key2");
$node2->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'phantomdb'")
  or die 'B never waited on node2';
is( $node2->safe_psql(
		'postgres',
		'SELECT count(*) FROM phantomdb.lock_waits() WHERE waiting_node = 1 AND blocking_node = 1 AND waiting_number <> blocking_number'
	),
	'1',
	'node2 reports the wait between the two distributed transactions');
is($node2->safe_psql('postgres', "SELECT count(*) FROM phantom_dist_transactions WHERE role = 'participant'"),
	'2', 'phantom_dist_transactions on node2 shows both participants');
sleep(4);
$a->query_safe('COMMIT');
$b->{stderr} = '';
$b->query("SELECT 'b after'");
is($b->{stderr}, '', 'the waiting UPDATE succeeds once the lock is released');
$b->query_safe('COMMIT');
is(balance($key2), '113', 'both updates are applied');
unlike(slurp_file($node1->logfile, $log_offset), qr/cancelled distributed transaction/,
	'nothing was cancelled');

$a->quit;
$b->quit;
done_testing();
