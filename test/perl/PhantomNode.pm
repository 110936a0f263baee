# PhantomDB nodes for the TAP tests: new_node makes a
# PostgreSQL::Test::Cluster server on 127.0.0.1, registered under its own
# name, with the extension preloaded (unless no_preload), when given a
# phantomdb.node_timeout_ms, and any further postgresql.conf lines (conf). The other helpers build a cluster of them and
# drive transactions stopped at a fault point (phantomdb.fault_injection).
package PhantomNode;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(new_node new_cluster key_on start_paused release_paused raft_status wait_for_leader start_again);

sub new_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'");
	$node->append_conf('postgresql.conf', "phantomdb.advertise_host = '127.0.0.1'");
	$node->append_conf('postgresql.conf', "phantomdb.node_name = '$name'");
	# Multi-node writes commit with PREPARE TRANSACTION on the participants.
	$node->append_conf('postgresql.conf',
		"max_prepared_transactions = " . ($opts{max_prepared_transactions} // 10));
	# Three background workers per database with phantomdb.
	$node->append_conf('postgresql.conf', 'max_worker_processes = 16');
	$node->append_conf('postgresql.conf', "phantomdb.node_timeout_ms = $opts{timeout_ms}")
	  if $opts{timeout_ms};
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'phantomdb'")
	  unless $opts{no_preload};
	$node->append_conf('postgresql.conf', $_) for @{ $opts{conf} // [] };
	$node->start;
	return $node;
}

# count nodes named node1.., the extension created on each, all added to
# node1's cluster; returns them, node1 first.
sub new_cluster
{
	my ($count, %opts) = @_;
	my @nodes = map { new_node("node$_", %opts) } 1 .. $count;
	$_->safe_psql('postgres', 'CREATE EXTENSION phantomdb') for @nodes;
	$nodes[0]->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$_->port}, '${\$_->name}')")
	  for @nodes[ 1 .. $#nodes ];
	return @nodes;
}

# The smallest key in 1..max of the distributed table whose shard is on the
# node named node_name, asked of the coordinator.
sub key_on
{
	my ($coordinator, $table, $node_name, $max) = @_;
	$max //= 100;
	return $coordinator->safe_psql(
		'postgres', qq{
		SELECT min(g) FROM generate_series(1, $max) g
		WHERE (SELECT node FROM phantom_shards
		       WHERE shard_id = phantom_shard_for_value('$table', g)) = '$node_name'});
}

# Runs the statements (each its own -c, with ON_ERROR_STOP) in a psql on the
# coordinator whose commit stops at fault point `point`, and returns once it
# is stopped there: the IPC::Run harness and a reference to its stderr.
sub start_paused
{
	my ($coordinator, $point, @statements) = @_;
	unlink $coordinator->data_dir . '/phantomdb_fault_release';
	my $offset = -s $coordinator->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $coordinator->connstr('postgres'),
			'-c', "SET phantomdb.fault_injection = '$point:pause'",
			map { ('-c', $_) } @statements
		],
		'>', \$out, '2>', \$err);
	$coordinator->wait_for_log(qr/paused at fault point $point/, $offset);
	return ($h, \$err);
}

# Starts a node whose postmaster was killed: its children may hold the
# shared memory (and the pid file's pid may not be reaped yet) for a moment.
sub start_again
{
	my ($node) = @_;
	for (1 .. 50)
	{
		# A failed start reads the dead postmaster's pid from its pid file.
		$node->{_pid} = undef;
		return if $node->start(fail_ok => 1);
		select(undef, undef, undef, 0.2);
	}
	die "could not restart " . $node->name;
}

# phantom_raft_status() of node as a hash (voters and learners as text).
sub raft_status
{
	my ($node) = @_;
	my $row = $node->safe_psql('postgres',
		"SELECT node_id, role, term, coalesce(leader_id, 0), commit_index, applied_index, voters, learners "
		  . "FROM phantom_raft_status()");
	my %status;
	@status{qw(node_id role term leader commit applied voters learners)} = split /\|/, $row;
	return \%status;
}

# Waits until every given node reports the same leader, other than
# `not_leader` when given; returns its node id (0 on timeout, after 60 s).
sub wait_for_leader
{
	my ($nodes, $not_leader) = @_;
	for (1 .. 600)
	{
		my %leaders = map { raft_status($_)->{leader} => 1 } @$nodes;
		my @seen = keys %leaders;
		return $seen[0]
		  if @seen == 1 && $seen[0] != 0 && (!defined $not_leader || $seen[0] != $not_leader);
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

# Lets a stopped commit go on and waits for its psql to end.
sub release_paused
{
	my ($coordinator, $h) = @_;
	my $release = $coordinator->data_dir . '/phantomdb_fault_release';
	open(my $fh, '>', $release) or die "cannot create $release: $!";
	close($fh);
	$h->finish;
	unlink $release;
	return;
}

1;
