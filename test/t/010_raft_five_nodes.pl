# Five voters: the leader killed with SIGKILL is replaced within a few
# election timeouts and the survivors keep committing; any three nodes are a
# majority and commit, two are not and cannot; restarted nodes catch up.
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
	'phantomdb.raft_voters = 5',
	'phantomdb.raft_election_timeout_ms = 500',
	'phantomdb.heartbeat_interval_ms = 50');
my @nodes = new_cluster(5, timeout_ms => 3000, conf => \@conf);
my %by_id = map { $_->safe_psql('postgres', 'SELECT node_id FROM phantomdb.local_node') => $_ } @nodes;

sub barrier
{
	my ($node) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', 'SELECT phantom_metadata_barrier() > 0');
	return ($ret == 0 && $out eq 't', $err);
}

ok($nodes[0]->poll_query_until('postgres', q{SELECT voters = '{1,2,3,4,5}' FROM phantom_raft_status()}),
	'all five nodes vote');
my $leader_id = wait_for_leader(\@nodes);
ok($leader_id, "they agree on a leader (node $leader_id)");

# --- The leader killed. ---
my $old = $by_id{$leader_id};
$old->kill9;
my @rest = grep { $_ != $old } @nodes;
my $killed_at = time;
my $new_leader = wait_for_leader(\@rest, $leader_id);
ok($new_leader && $new_leader != $leader_id, "the four survivors elect node $new_leader");
note(sprintf('new leader after %.2f s', time - $killed_at));
my ($done, $err) = barrier($rest[0]);
ok($done, 'a survivor commits a metadata change') or diag($err);
start_again($old);
ok($old->poll_query_until('postgres',
		q{SELECT applied_index >= commit_index AND leader_id IS NOT NULL FROM phantom_raft_status()}),
	'the killed node comes back and follows');

# --- A majority of three commits; two cannot. ---
ok($nodes[0]->poll_query_until('postgres', q{SELECT voters = '{1,2,3,4,5}' FROM phantom_raft_status()}),
	'five voters again');
$_->stop('immediate') for @nodes[ 3, 4 ];
my @three = @nodes[ 0 .. 2 ];
ok(wait_for_leader(\@three), 'three of five keep a leader');
($done, $err) = barrier($three[1]);
ok($done, 'and commit') or diag($err);
$nodes[2]->stop('immediate');
my @two = @nodes[ 0, 1 ];
my $started = time;
($done, $err) = barrier($two[0]);
ok(!$done, 'two of five cannot commit');
like($err, qr/timed out waiting for the metadata change to commit/, 'and say so');
note(sprintf('refused after %.2f s', time - $started));
is(raft_status($two[1])->{leader}, '0', 'they have no leader');

# --- Everyone back: commits resume and the stopped nodes catch up. ---
$_->start for @nodes[ 2, 3, 4 ];
ok(wait_for_leader(\@nodes), 'all five agree on a leader again');
($done, $err) = barrier($nodes[4]);
ok($done, 'a node that was down commits') or diag($err);
my $applied = $nodes[4]->safe_psql('postgres', 'SELECT applied_index FROM phantom_raft_status()');
for my $node (@nodes)
{
	ok($node->poll_query_until('postgres', "SELECT applied_index >= $applied FROM phantom_raft_status()"),
		$node->name . ' caught up');
}

$_->stop for @nodes;
done_testing();
