# Sagas across three nodes: steps run in order on this node and others, as
# the saga's owner; a permanent failure compensates the done steps last
# first; a node that is down is retried until it is back; and a saga carries
# on where it stopped after its node restarts (stopped, or killed mid-step),
# with each local step applied exactly once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

sub node
{
	my $node = new_node($_[0], timeout_ms => 2000);
	$node->safe_psql('postgres', 'CREATE EXTENSION phantomdb');
	# Every step's log, with who ran it and when (one clock: same host).
	$node->safe_psql('postgres', q{
		CREATE ROLE alice LOGIN;
		CREATE TABLE saga_log (saga text, what text, who text DEFAULT current_user,
		                       at timestamptz DEFAULT clock_timestamp());
		GRANT ALL ON saga_log TO alice;
		CREATE TABLE accounts (id int PRIMARY KEY, balance int);
		GRANT ALL ON accounts TO alice;});
	return $node;
}

my ($node1, $node2, $node3) = map { node("node$_") } 1 .. 3;
$node1->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$_->port}, '${\$_->name}')")
  for ($node2, $node3);
# Quick retries, and enough of them to outlast a node restart.
$node1->append_conf('postgresql.conf', qq{
phantomdb.saga_retry_base_ms = 200
phantomdb.saga_retry_max_ms = 1000
phantomdb.saga_max_attempts = 1000
});
$node1->reload;

sub as_alice
{
	my ($sql) = @_;
	return $node1->safe_psql('postgres', $sql, extra_params => [ '-U', 'alice' ]);
}

# A saga of alice's: each step [forward, compensation, node or undef].
sub saga
{
	my ($name, @steps) = @_;
	my $id = as_alice("SELECT phantom_saga_create('$name')");
	for my $step (@steps)
	{
		my ($forward, $compensation, $node) = @$step;
		as_alice("SELECT phantom_saga_add_step($id, \$f\$$forward\$f\$, \$c\$$compensation\$c\$, "
			  . (defined $node ? "'$node'" : 'NULL') . ')');
	}
	return $id;
}

sub logged
{
	my ($saga, $what) = @_;
	return "INSERT INTO saga_log (saga, what) VALUES ('$saga', '$what')";
}

sub wait_for_end
{
	my ($id) = @_;
	$node1->poll_query_until('postgres',
		"SELECT state IN ('completed', 'compensated', 'failed') FROM phantom_sagas WHERE saga_id = $id")
	  or die "saga $id did not finish";
	return $node1->safe_psql('postgres', "SELECT state FROM phantom_sagas WHERE saga_id = $id");
}

# Everything saga logged on every node, oldest first: "what@node as who".
sub log_of
{
	my ($saga) = @_;
	my @rows;
	for my $node ($node1, $node2, $node3)
	{
		my $out = $node->safe_psql('postgres',
			"SELECT extract(epoch FROM at), what, who FROM saga_log WHERE saga = '$saga'");
		for (split /\n/, $out)
		{
			my ($at, $what, $who) = split /\|/;
			push @rows, [ $at, "$what\@${\$node->name} as $who" ];
		}
	}
	return join(', ', map { $_->[1] } sort { $a->[0] <=> $b->[0] } @rows);
}

sub steps_of
{
	my ($id) = @_;
	return $node1->safe_psql('postgres',
		"SELECT string_agg(status || '/' || attempts, ' ' ORDER BY step_index) FROM phantom_saga_steps WHERE saga_id = $id");
}

# --- A saga completes, in order, on three nodes, as its owner. ---
my $id = saga('order',
	[ logged('order', 'step 0'), '' ],
	[ logged('order', 'step 1'), '', 'node2' ],
	[ logged('order', 'step 2'), '', 'node3' ],
	[ logged('order', 'step 3'), '' ]);
is($node1->safe_psql('postgres', "SELECT state, steps FROM phantom_sagas WHERE saga_id = $id"),
	'created|4', 'a saga waits for its start');
as_alice("SELECT phantom_saga_start($id)");
is(wait_for_end($id), 'completed', 'the saga completes');
is(log_of('order'),
	'step 0@node1 as alice, step 1@node2 as alice, step 2@node3 as alice, step 3@node1 as alice',
	'its steps ran in order, where they were meant to, as the owner');
is($node1->safe_psql('postgres', "SELECT steps_done, current_step, error FROM phantom_sagas WHERE saga_id = $id"),
	'4||', 'every step is done, nothing is left to do');

# --- A permanent failure compensates the done steps, last first. ---
$id = saga('undo',
	[ logged('undo', 'step 0'), logged('undo', 'undo 0') ],
	[ logged('undo', 'step 1'), logged('undo', 'undo 1'), 'node2' ],
	[ 'SELECT 1/0',             logged('undo', 'undo 2'), 'node3' ],
	[ logged('undo', 'step 3'), logged('undo', 'undo 3') ]);
as_alice("SELECT phantom_saga_start($id)");
is(wait_for_end($id), 'compensated', 'a saga whose step fails for good is compensated');
is(log_of('undo'), 'step 0@node1 as alice, step 1@node2 as alice, undo 1@node2 as alice, undo 0@node1 as alice',
	'the steps before the failed one are undone in reverse order; the failed and later ones never');
like(
	$node1->safe_psql('postgres', "SELECT error FROM phantom_sagas WHERE saga_id = $id"),
	qr/^step 2 failed: node 127\.0\.0\.1:${\$node3->port}: division by zero \(SQLSTATE 22012\)$/,
	'phantom_sagas shows why');
is(steps_of($id), 'compensated/1 compensated/1 failed/1 pending/0', 'and where each step ended');

# A step runs with the owner's rights, not the worker's.
$id = saga('rights', [ logged('rights', 'step 0'), logged('rights', 'undo 0') ],
	[ 'SELECT count(*) FROM phantomdb.sagas', '' ]);
as_alice("SELECT phantom_saga_start($id)");
is(wait_for_end($id), 'compensated', 'a step the owner may not run fails');
is($node1->safe_psql('postgres', "SELECT error FROM phantom_sagas WHERE saga_id = $id"),
	'step 1 failed: permission denied for table sagas (SQLSTATE 42501)', 'for lack of the owner\'s privileges');

# A compensation that fails for good leaves the saga failed.
$id = saga('stuck', [ logged('stuck', 'step 0'), 'SELECT 1/0' ], [ 'SELECT 1/0', '' ]);
as_alice("SELECT phantom_saga_start($id)");
is(wait_for_end($id), 'failed', 'a saga whose compensation fails is failed');
is($node1->safe_psql('postgres', "SELECT error FROM phantom_sagas WHERE saga_id = $id"),
	'compensation of step 0 failed: division by zero (SQLSTATE 22012)', 'and says which compensation');

# Another user sees neither the saga nor its steps.
$node1->safe_psql('postgres', 'CREATE ROLE bob LOGIN');
is($node1->safe_psql('postgres', 'SELECT count(*) FROM phantom_sagas', extra_params => [ '-U', 'bob' ]),
	'0', 'other users see none of alice\'s sagas');
my ($ret, $out, $err) =
  $node1->psql('postgres', "SELECT phantom_saga_start($id)", extra_params => [ '-U', 'bob' ]);
like($err, qr/must be owner of saga $id/, 'and cannot touch them');

# --- A node that is down is retried until it is back. ---
$node3->stop;
$id = saga('retry', [ logged('retry', 'step 0'), '' ], [ logged('retry', 'step 1'), '', 'node3' ]);
as_alice("SELECT phantom_saga_start($id)");
$node1->poll_query_until('postgres',
	"SELECT state = 'running' AND current_step = 1 AND attempts >= 3 AND next_attempt_at IS NOT NULL
	   AND last_error LIKE 'could not connect to node%(SQLSTATE 08001)'
	   FROM phantom_sagas WHERE saga_id = $id")
  or die 'the step on the stopped node is not retried';
pass('a step on a stopped node is retried with backoff');
$node3->start;
is(wait_for_end($id), 'completed', 'and completes once the node is back');
is(log_of('retry'), 'step 0@node1 as alice, step 1@node3 as alice', 'each step ran once');

# --- The coordinator restarts while a saga waits on a node. ---
$node2->stop;
$id = saga('resume',
	[ logged('resume', 'step 0'), '' ],
	[ logged('resume', 'step 1'), '', 'node2' ],
	[ logged('resume', 'step 2'), '' ]);
as_alice("SELECT phantom_saga_start($id)");
$node1->poll_query_until('postgres', "SELECT current_step = 1 AND attempts >= 1 FROM phantom_sagas WHERE saga_id = $id")
  or die 'the saga did not reach step 1';
$node1->stop;
$node2->start;
$node1->start;
is(wait_for_end($id), 'completed', 'after a restart of its node, a saga carries on');
is(log_of('resume'), 'step 0@node1 as alice, step 1@node2 as alice, step 2@node1 as alice',
	'where it stopped: no step ran twice');

# kill9, then start once the old postmaster and its children are gone
# (until then the new one finds its lock file or shared memory in use).
sub crash_and_start
{
	my ($node) = @_;
	my $pid = $node->{_pid};
	$node->kill9;
	for (1 .. 100)
	{
		last unless kill(0, $pid);
		usleep(100_000);
	}
	for (1 .. 20)
	{
		return if $node->start(fail_ok => 1);
		$node->{_pid} = undef;    # start read the stale pid file
		usleep(500_000);
	}
	die "node \"${\$node->name}\" did not start again";
}

# --- The coordinator is killed in the middle of a local step. ---
$id = saga('crash',
	[ logged('crash', 'step 0'), '' ],
	[ logged('crash', 'step 1') . '; SELECT pg_sleep(3)', '' ],
	[ logged('crash', 'step 2'), '' ]);
as_alice("SELECT phantom_saga_start($id)");
$node1->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'phantomdb saga worker' AND wait_event = 'PgSleep'")
  or die 'step 1 never ran';
crash_and_start($node1);
is(wait_for_end($id), 'completed', 'after a crash mid-step, the saga completes');
is(log_of('crash'), 'step 0@node1 as alice, step 1@node1 as alice, step 2@node1 as alice',
	'the interrupted step was undone with its transaction and ran again: each local step took effect once');
is(steps_of($id), 'done/1 done/1 done/1', 'the interrupted attempt left no trace');

done_testing();
