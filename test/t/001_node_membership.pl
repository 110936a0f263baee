# Node membership across real servers: three PhantomDB nodes join, one
# leaves; every node holds the metadata and may administer; nodes that
# cannot join (unresponsive, in another cluster, the extension not
# preloaded) are refused and the catalog stays as it was.
use strict;
use warnings;

use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

# A short node timeout: the refusals below wait on unresponsive peers.
sub node { return new_node($_[0], timeout_ms => 1000, @_[1 .. $#_]); }

# What a failed call must leave unchanged: the nodes and the metadata
# commands (not node states and Raft membership, which the leader changes
# by itself as nodes come and go).
sub catalog
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		q{SELECT string_agg(format('%s %s %s:%s', node_id, node_name, host, port), '; ' ORDER BY node_id)
		    FROM phantom_nodes}
		  . q{ UNION ALL SELECT count(*)::text FROM phantomdb.metadata_log
		       WHERE command_type NOT LIKE 'Raft:%' AND command_type NOT IN ('SetNodeState', 'MetadataBarrier')});
}

my @nodes = map { node("node$_") } 1 .. 4;
my ($node1, $node2, $node3, $node4) = @nodes;
$_->safe_psql('postgres', 'CREATE EXTENSION phantomdb') for @nodes;

# --- Three nodes join. ---
for my $node ($node2, $node3)
{
	my $id = $node1->safe_psql('postgres',
		"SELECT phantom_add_node('127.0.0.1', ${\$node->port}, '${\$node->name}')");
	like($id, qr/^[23]$/, "${\$node->name} gets node id $id");
}
is($node1->safe_psql('postgres', 'SELECT count(*) FROM phantom_nodes'),
	'3', 'three nodes registered');
is( $node1->safe_psql('postgres',
		'SELECT string_agg(node_name, \',\' ORDER BY node_id) FROM phantom_nodes'),
	'node1,node2,node3',
	'node1 registered itself on first use, then node2 and node3');
is($node1->safe_psql('postgres', 'SELECT count(*) FROM phantom_cluster_health() WHERE NOT ok'),
	'0', 'every health check passes');

# Every node holds the same catalog, and any node may change it.
my $cluster_id = $node1->safe_psql('postgres', 'SELECT cluster_id FROM phantomdb.cluster');
is($node2->safe_psql('postgres', 'SELECT cluster_id FROM phantomdb.cluster'),
	$cluster_id, 'node2 holds the cluster it joined');
is(catalog($node3), catalog($node1), 'node3 holds the same catalog as node1');
my ($ret, $stdout, $stderr) = $node2->psql('postgres', 'SELECT phantom_metadata_barrier() > 0');
is($stdout, 't', 'node2 commits metadata changes too');
my $quorum_check = q{SELECT ok FROM phantom_cluster_health() WHERE "check" = 'quorum'};
is($node2->safe_psql('postgres', $quorum_check), 't', 'node2\'s health check sees a quorum');

# --- The catalog survives a restart; while node1 is down the others lead. ---
my $before_restart = catalog($node1);
my $first_leader = wait_for_leader([ $node1, $node2, $node3 ]);
# The leader promotes the new nodes to voters a heartbeat or two after they
# became active; before that, node1 alone is the group's majority.
ok($node2->poll_query_until('postgres', q{SELECT voters = '{1,2,3}' FROM phantom_raft_status()}),
	'all three nodes vote');
$node1->stop;
my $leader = wait_for_leader([ $node2, $node3 ], 1);
ok($leader == 2 || $leader == 3, "with node1 down, node2 and node3 elect node $leader")
  or diag("first leader $first_leader");
$node1->start;
is(catalog($node1), $before_restart, 'node catalog and metadata log survive a restart');
ok(wait_for_leader([ $node1, $node2, $node3 ]), '... and node1 follows the leader again');

# --- An unresponsive host is refused after the timeout; nothing changes. ---
my $silent_port = PostgreSQL::Test::Cluster::get_free_port();
my $silent = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => $silent_port,
	Listen    => 8,
	ReuseAddr => 1) or die "cannot listen on $silent_port: $!";
my $before = catalog($node1);
($ret, $stdout, $stderr) =
  $node1->psql('postgres', "SELECT phantom_add_node('127.0.0.1', $silent_port, 'silent')");
isnt($ret, 0, 'an unresponsive node is refused');
like($stderr, qr/node 127\.0\.0\.1:$silent_port did not answer within 1000 ms/,
	'... with a timeout error naming it');
is(catalog($node1), $before, '... and the catalog is unchanged');

# A cancel interrupts the wait for a node that does not answer.
($ret, $stdout, $stderr) = $node1->psql('postgres',
	"SET phantomdb.node_timeout_ms = '10min'; SET statement_timeout = '300ms'; "
	  . "SELECT phantom_add_node('127.0.0.1', $silent_port, 'silent')");
like($stderr, qr/canceling statement due to statement timeout/, 'a query cancel ends the wait');
is(catalog($node1), $before, '... and the catalog is unchanged');
close $silent;

# A port where nothing listens.
my $closed_port = PostgreSQL::Test::Cluster::get_free_port();
($ret, $stdout, $stderr) =
  $node1->psql('postgres', "SELECT phantom_add_node('127.0.0.1', $closed_port)");
like($stderr, qr/could not connect to node 127\.0\.0\.1:$closed_port/, 'a closed port is refused');
is(catalog($node1), $before, '... and the catalog is unchanged');

# --- A node of another cluster is refused. ---
my $other = node('other');
$other->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
$node4->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$other->port}, 'other')");
for my $target ($node4, $other)
{
	($ret, $stdout, $stderr) =
	  $node1->psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$target->port})");
	like($stderr,
		qr/node "127\.0\.0\.1:${\$target->port}" already belongs to another cluster/,
		"${\$target->name}, in node4's cluster, is refused");
	is(catalog($node1), $before, '... and the catalog is unchanged');
}

# --- A node that is down: health shows it; removing it still works, with a
# warning, while the other two voters are a majority. ---
$node2->stop;
is( $node1->safe_psql('postgres', q{SELECT ok FROM phantom_cluster_health() WHERE "check" = 'node node2'}),
	'f', 'health reports the stopped node');
($ret, $stdout, $stderr) = $node1->psql('postgres', "SELECT phantom_remove_node('node2')");
is($ret, 0, 'a stopped node can be removed');
like($stderr, qr/WARNING:  node "node2" was removed, but could not be told so/, '... with a warning');
$node2->start;
($ret, $stdout, $stderr) =
  $node4->psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$node2->port}, 'node2')");
like($stderr, qr/already belongs to another cluster/,
	'until it is told, the removed node refuses another cluster');
is($node1->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$node2->port}, 'node2')"),
	'4', 'it can be added back to its cluster, under a new id');
$node1->safe_psql('postgres', "SELECT phantom_remove_node('node2')");
is($node2->safe_psql('postgres', 'SELECT count(*) FROM phantomdb.cluster'),
	'0', 'and removed again, now that it can be told');

# --- A node leaves: removed from the catalog, and free to join elsewhere. ---
$node1->safe_psql('postgres', "SELECT phantom_remove_node('node3')");
is( $node1->safe_psql('postgres',
		'SELECT string_agg(node_name, \',\' ORDER BY node_id) FROM phantom_nodes'),
	'node1', 'node3 is removed');
is($node3->safe_psql('postgres', 'SELECT count(*) FROM phantomdb.cluster'),
	'0', 'node3 was told it left');
is($node4->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$node3->port}, 'node3')"),
	'3', 'node3 joins node4\'s cluster');

# --- Without shared_preload_libraries the extension refuses to install. ---
my $plain = node('plain', no_preload => 1);
($ret, $stdout, $stderr) = $plain->psql('postgres', 'CREATE EXTENSION phantomdb');
isnt($ret, 0, 'CREATE EXTENSION fails without the preload');
like($stderr, qr/phantomdb must be loaded via shared_preload_libraries/, '... saying why');
like($stderr, qr/HINT:  Add phantomdb to shared_preload_libraries in postgresql.conf and restart the server/,
	'... and how to fix it');
is($plain->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'phantomdb'}),
	'0', '... leaving nothing installed');

$_->stop for @nodes, $other, $plain;
done_testing();
