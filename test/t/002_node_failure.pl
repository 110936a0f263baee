# A node failing under a distributed table: creation that fails on one node
# leaves nothing anywhere; a node killed mid-query gives a clear error that
# names it, the session stays usable, and queries work again once the node
# is back.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

# A node with the extension created.
sub node
{
	my $node = new_node($_[0], timeout_ms => 2000);
	$node->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
	return $node;
}

my ($node1, $node2, $node3) = map { node("node$_") } 1 .. 3;
$node1->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$_->port}, '${\$_->name}')")
  for ($node2, $node3);

sub tables_like
{
	my ($node, $pattern) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname LIKE '$pattern' AND relkind = 'r'");
}

# --- Creation is all-or-nothing. ---
# node3 already has a table named like the shell: creating it there fails,
# after node2 and node1 got their shards.
$node3->safe_psql('postgres', 'CREATE TABLE items (id bigint)');
$node1->safe_psql('postgres',
	'CREATE TABLE items (id bigint PRIMARY KEY, name text); INSERT INTO items SELECT g, g::text FROM generate_series(1, 100) g');
my ($ret, $out, $err) = $node1->psql('postgres', "SELECT phantom_create_distributed_table('items', 'id', 6)");
isnt($ret, 0, 'distributing fails when one node cannot take its part');
like($err, qr/node 127\.0\.0\.1:${\$node3->port}: relation "items" already exists/,
	'the error names the node and the cause');
is(tables_like($node1, 'items\_%'), '0', 'no shard left on node1');
is(tables_like($node2, 'items%'), '0', 'no shell or shard left on node2');
is(tables_like($node3, 'items\_%'), '0', 'no shard left on node3');
is($node1->safe_psql('postgres', 'SELECT count(*) FROM phantom_tables'), '0', 'no metadata left');
is($node1->safe_psql('postgres', 'SELECT count(*) FROM ONLY items'), '100', 'the rows are still in the local table');
$node3->safe_psql('postgres', 'DROP TABLE items');
$node1->safe_psql('postgres', "SELECT phantom_create_distributed_table('items', 'id', 6)");
is($node1->safe_psql('postgres', "SELECT pg_relation_size('items')"), '0', 'after the retry the rows moved out of the local table');
is($node1->safe_psql('postgres', 'SELECT name FROM items WHERE id = 42'), '42', 'and are read from their shard');

# Every node holds the metadata: the other nodes read and write the table too.
is($node2->safe_psql('postgres', 'SELECT count(*) FROM items'), '100', 'node2 reads the table');
$node3->safe_psql('postgres', "INSERT INTO items VALUES (1000, 'x')");
is($node2->safe_psql('postgres', 'SELECT name FROM items WHERE id = 1000'), 'x', 'node3 writes it, node2 reads it');
is(scalar(() = $node3->safe_psql('postgres', 'COPY items TO STDOUT') =~ /\n/g) + 1, 101, 'node3 copies it out');
$node2->safe_psql('postgres', 'DELETE FROM items WHERE id = 1000');

# A key whose shard is on node2, and one whose shard is on node3.
my $key2 = key_on($node1, 'items', 'node2');
my $key3 = key_on($node1, 'items', 'node3');
is($node1->safe_psql('postgres', "SELECT name FROM items WHERE id = $key2"), $key2, 'a row on node2 is read');

# --- A node killed mid-query. ---
my $session = $node1->background_psql('postgres', on_error_stop => 0);
$session->query_safe("SELECT name FROM items WHERE id = $key3");   # warm the connections
$session->query_safe("SELECT name FROM items WHERE id = $key2");
$session->query_until(qr/started/, qq{\\echo started\nSELECT name, pg_sleep(30) FROM items WHERE id = $key2;\n});
# Wait until node2 runs the statement, then kill it.
$node2->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND application_name = 'phantomdb'")
  or die 'the remote statement never started';
$node2->stop('immediate');
my $failure = $session->query("SELECT 'after'");
like($session->{stderr}, qr/node 127\.0\.0\.1:${\$node2->port}/, 'the error names the node that went away');
$session->{stderr} = '';
is($session->query("SELECT name FROM items WHERE id = $key3"), $key3,
	'the same session still queries the other nodes');
my $down = $session->query("SELECT name FROM items WHERE id = $key2");
like($session->{stderr}, qr/could not connect to node 127\.0\.0\.1:${\$node2->port}/,
	'a query to the dead node fails with a clear error');
$session->{stderr} = '';
# The leader declares it failed after a few node timeouts; then queries of
# its shards fail at once, naming it, without trying to connect.
ok($node1->poll_query_until('postgres', "SELECT state = 'failed' FROM phantom_nodes WHERE node_name = 'node2'"),
	'the cluster marks the dead node failed');
$down = $session->query("SELECT name FROM items WHERE id = $key2");
like($session->{stderr}, qr/node "node2" \(127\.0\.0\.1:${\$node2->port}\) has failed/,
	'a query to the failed node says so');
$session->{stderr} = '';
$node2->start;
ok($node1->poll_query_until('postgres', "SELECT state = 'active' FROM phantom_nodes WHERE node_name = 'node2'"),
	'the node rejoins by itself when it is back');
is($session->query("SELECT name FROM items WHERE id = $key2"), $key2, 'once the node is back, the session reaches it again');

# --- Cancelling a long remote query stops it on the node. ---
$session->query_until(qr/started/, qq{\\echo started\nSELECT name, pg_sleep(60) FROM items WHERE id = $key3;\n});
$node3->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND application_name = 'phantomdb'")
  or die 'the remote statement never started';
$node1->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() AND application_name <> 'phantomdb'");
$session->query("SELECT 1");
like($session->{stderr}, qr/canceling statement due to user request/, 'the query is cancelled');
$session->{stderr} = '';
ok( $node3->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND application_name = 'phantomdb'"),
	'and the statement stopped on the node too');
is($session->query("SELECT name FROM items WHERE id = $key3"), $key3, 'the session goes on');
$session->quit;

done_testing();
