# Fencing stale metadata: a shard command from another node carries the
# metadata log index the sender routed it by. The receiving node catches up
# to that index first, then refuses (retryably, 40001) to touch a shard
# table its metadata does not place on it: a leftover copy of a shard that
# moved or was dropped is never written through a stale route.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

my ($node1, $node2, $node3) = new_cluster(3, timeout_ms => 2000);
$node1->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v text);
	SELECT phantom_create_distributed_table('t', 'id', 6);
	INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 30) g;});
my $shard_on = sub {
	my ($name) = @_;
	return $node1->safe_psql('postgres',
		"SELECT min(shard_id) FROM phantom_shards WHERE \"table\" = 't'::regclass AND node = '$name'");
};
my ($here, $elsewhere) = ($shard_on->('node2'), $shard_on->('node3'));
my $index = $node1->safe_psql('postgres', 'SELECT applied_index FROM phantom_raft_status()');
ok($node2->poll_query_until('postgres', "SELECT applied_index >= $index FROM phantom_raft_status()"),
	'node2 has the metadata');

# A shard command as another node sends it: a node session routed by $at.
sub shard_command
{
	my ($node, $at, $sql) = @_;
	local $ENV{PGOPTIONS} = "-c phantomdb.node_session=on -c phantomdb.metadata_index=$at";
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return ($ret, $err);
}

# A shard placed here is written.
my ($ret, $err) = shard_command($node2, $index, "INSERT INTO t_$here VALUES (1000, 'routed')");
is($ret, 0, 'a write to a shard this node holds goes through') or diag($err);

# A leftover table of a shard placed elsewhere (as a moved shard leaves
# behind until it is dropped) is refused, though it exists.
$node2->safe_psql('postgres', "CREATE TABLE t_$elsewhere (LIKE t)");
($ret, $err) = shard_command($node2, $index, "INSERT INTO t_$elsewhere VALUES (1001, 'stale')");
isnt($ret, 0, 'a write to a shard placed on another node is refused');
like($err, qr/ERROR:  shard $elsewhere of table "t" is not placed on this node/, 'naming the shard');
($ret, $err) = shard_command($node2, $index, "SELECT count(*) FROM t_$elsewhere");
isnt($ret, 0, 'so is a read');
is($node2->safe_psql('postgres', "SELECT count(*) FROM t_$elsewhere"), '0', 'nothing was written there');

# A sender ahead of this node is waited for, then refused when this node
# does not catch up in time.
($ret, $err) = shard_command($node2, $index + 1000, "INSERT INTO t_$here VALUES (1002, 'ahead')");
isnt($ret, 0, 'a command routed by metadata this node does not have yet is refused');
like($err, qr/ERROR:  this node's metadata is behind the node that sent the command/, '... saying so');
like($err, qr/HINT:  Retry the transaction/, '... retryably');
is($node2->safe_psql('postgres', "SELECT count(*) FROM t_$here WHERE id = 1002"), '0', '... and wrote nothing');

# Ordinary sessions are not fenced: the table is used through its shell.
is($node2->safe_psql('postgres', 'SELECT count(*) FROM t'), '31', 'queries through the shell are unaffected');

$_->stop for ($node1, $node2, $node3);
done_testing();
