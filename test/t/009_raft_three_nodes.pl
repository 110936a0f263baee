# The metadata Raft group of three nodes: every node holds the metadata and
# takes DDL and queries; a killed leader is replaced and admin calls keep
# working from the survivors; a node alone cannot change the metadata; a
# restarted node catches up by the log, and one that fell behind a
# compaction by a snapshot; a node with phantomdb.seeds joins by itself.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

my @conf = (
	'phantomdb.raft_election_timeout_ms = 500',
	'phantomdb.heartbeat_interval_ms = 50',
	# Small enough that the catch-up below must go through a snapshot.
	'phantomdb.raft_snapshot_entries = 8');
my @nodes = new_cluster(3, timeout_ms => 2000, conf => \@conf);
my %by_id = map { $_->safe_psql('postgres', 'SELECT node_id FROM phantomdb.local_node') => $_ } @nodes;

my $leader_id = wait_for_leader(\@nodes);
ok($leader_id, "the three nodes agree on a leader (node $leader_id)");
# The leader promotes the learners once they caught up.
for my $node (@nodes)
{
	ok($node->poll_query_until('postgres', q{SELECT voters = '{1,2,3}' FROM phantom_raft_status()}),
		$node->name . ' sees three voters');
}

# --- DDL from a follower is visible everywhere, queries work from every node. ---
my ($follower) = grep { $_ != $by_id{$leader_id} } @nodes;
$follower->safe_psql('postgres', q{
	CREATE TABLE accounts (id bigint PRIMARY KEY, balance int);
	INSERT INTO accounts SELECT g, g FROM generate_series(1, 200) g;
	SELECT phantom_create_distributed_table('accounts', 'id', 6);
	CREATE TABLE regions (code text PRIMARY KEY, name text);
	INSERT INTO regions VALUES ('eu', 'Europe'), ('us', 'Americas');
	SELECT phantom_create_reference_table('regions');});
for my $node (@nodes)
{
	is($node->safe_psql('postgres', 'SELECT count(*), sum(balance) FROM accounts'),
		'200|20100', $node->name . ' reads the table distributed on a follower');
	is($node->safe_psql('postgres', 'SELECT count(DISTINCT shard_id) FROM phantom_shards'), '7', $node->name . ' has its metadata');
}
$nodes[2]->safe_psql('postgres', 'UPDATE accounts SET balance = balance + 1 WHERE id <= 10');
$nodes[1]->safe_psql('postgres', 'ALTER TABLE accounts ADD COLUMN note text');
is($nodes[0]->safe_psql('postgres', "SELECT sum(balance), count(note) FROM accounts"),
	'20110|0', 'writes and DDL from any node show on every node');

# --- The leader killed: a new one, and admin calls go on from the survivors. ---
my $old_leader = $by_id{$leader_id};
$old_leader->kill9;
my @survivors = grep { $_ != $old_leader } @nodes;
my $killed_at = time;
my $new_leader = wait_for_leader(\@survivors, $leader_id);
ok($new_leader && $new_leader != $leader_id, "the survivors elect node $new_leader");
note(sprintf('new leader after %.2f s', time - $killed_at));
my $node4 = new_node('node4', timeout_ms => 2000, conf => \@conf);
$node4->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
my ($ret, $out, $err) =
  $survivors[1]->psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$node4->port}, 'node4')");
is($ret, 0, 'a survivor adds a node while the old leader is down') or diag($err);
is($survivors[0]->safe_psql('postgres', "SELECT state FROM phantom_nodes WHERE node_name = 'node4'"),
	'active', 'the other survivor sees it');
is($node4->safe_psql('postgres', 'SELECT count(DISTINCT shard_id) FROM phantom_shards'), '7', 'the new node has the metadata');
my $key = key_on($survivors[0], 'accounts', $survivors[0]->name, 200);
is($node4->safe_psql('postgres', "SELECT balance FROM accounts WHERE id = $key"),
	$key <= 10 ? $key + 1 : $key, 'and can query a distributed table');

# --- The killed node restarts and catches up by the log. ---
start_again($old_leader);
$survivors[0]->safe_psql('postgres', q{
	CREATE TABLE late (id int PRIMARY KEY);
	SELECT phantom_create_distributed_table('late', 'id', 2);});
my $caught_up = 0;
for (1 .. 300)
{
	$caught_up = $old_leader->safe_psql('postgres', "SELECT count(*) FROM phantom_tables WHERE \"table\"::text = 'late'");
	last if $caught_up;
	select(undef, undef, undef, 0.1);
}
is($caught_up, '1', 'the restarted node applied what it missed');
is($old_leader->safe_psql('postgres', "SELECT state FROM phantom_nodes WHERE node_name = 'node4'"),
	'active', 'including the node added while it was down');
is($old_leader->safe_psql('postgres', 'SELECT count(*) FROM late'), '0', 'and queries the new table');

# --- A voter without a majority cannot commit metadata. ---
my @all = (@nodes, $node4);
wait_for_leader(\@all);
my %all_by_id = (%by_id, 4 => $node4);
my @voters = map { $all_by_id{$_} } split /,/, (raft_status($all[0])->{voters} =~ s/[{}]//gr);
is(scalar @voters, 3, 'three of the four nodes vote');
my $lonely = $voters[0];
# Adding a node needs nothing but the metadata log (and the new node).
my $spare = new_node('spare', timeout_ms => 2000, conf => \@conf);
$spare->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
$_->stop('immediate') for @voters[ 1, 2 ];
my $started = time;
($ret, $out, $err) =
  $lonely->psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$spare->port}, 'spare')");
isnt($ret, 0, 'a voter without a majority cannot change the metadata');
like($err, qr/timed out waiting for the metadata change to commit/, 'and says why');
note(sprintf('refused after %.2f s', time - $started));
is($lonely->safe_psql('postgres', "SELECT count(*) FROM phantom_nodes WHERE node_name = 'spare'"),
	'0', 'nothing of it was applied');
is(raft_status($lonely)->{leader}, '0', 'it knows there is no leader');
$_->start for @voters[ 1, 2 ];
ok(wait_for_leader(\@all), 'with the voters back there is a leader again');
($ret, $out, $err) =
  $lonely->psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$spare->port}, 'spare')");
is($ret, 0, 'and the change goes through') or diag($err);
push @all, $spare;

# --- A node that fell behind a compaction catches up from a snapshot. ---
# (phantomdb.raft_snapshot_entries = 8: a dozen entries compact the log.)
my $current = $all_by_id{ wait_for_leader(\@all) };
my ($behind) = grep { $_ != $current && $_ != $spare } @all;
$behind->stop;
$current->safe_psql('postgres', "SELECT phantom_remove_node('spare')");
$current->safe_psql('postgres', 'SELECT phantom_metadata_barrier()') for 1 .. 12;
my $offset = -s $behind->logfile;
$behind->start;
ok($behind->wait_for_log(qr/installed a catalog snapshot/, $offset), 'the lagging node installs a snapshot');
ok($behind->poll_query_until('postgres', q{SELECT count(*) = 0 FROM phantom_nodes WHERE node_name = 'spare'}),
	'and then has the change it missed');
@all = grep { $_ != $spare } @all;

# --- A node with seeds joins by itself. ---
my $node5 = new_node('node5', timeout_ms => 2000,
	conf => [ @conf, "phantomdb.seeds = '127.0.0.1:${\$current->port}'" ]);
$node5->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
my $joined = 0;
for (1 .. 300)
{
	$joined = $all[1]->safe_psql('postgres',
		"SELECT count(*) FROM phantom_nodes WHERE node_name = 'node5' AND state = 'active'");
	last if $joined;
	select(undef, undef, undef, 0.1);
}
is($joined, '1', 'a node with phantomdb.seeds is added and becomes active');
is($node5->safe_psql('postgres', 'SELECT count(*) FROM accounts'), '200', 'and queries the cluster');

# --- ... or through phantomdb.discovery_url (libcurl; here a file: URL). ---
my $seed_file = PostgreSQL::Test::Utils::tempdir() . '/seeds.json';
open(my $fh, '>', $seed_file) or die "cannot write $seed_file: $!";
print $fh qq{["127.0.0.1:1", "127.0.0.1:${\$current->port}"]\n};
close($fh);
my $node6 = new_node('node6', timeout_ms => 2000, conf => [ @conf, "phantomdb.discovery_url = 'file://$seed_file'" ]);
$node6->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
ok($all[1]->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM phantom_nodes WHERE node_name = 'node6' AND state = 'active'}),
	'a node with phantomdb.discovery_url is added, past a seed that does not answer');

$_->stop for (@all, $spare, $node5, $node6);
done_testing();
