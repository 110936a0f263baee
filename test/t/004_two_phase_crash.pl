# The crash matrix of two-phase commit: a transaction that writes on two
# nodes is stopped at each point of the commit protocol
# (phantomdb.fault_injection), and then either the coordinator or one of
# the participants is killed with SIGKILL of its postmaster and restarted.
# Afterwards every node must agree: all of the transaction or none of it,
# and once the maintenance worker has run no prepared transaction is left
# anywhere and the commit records are gone. Also: a participant without
# max_prepared_transactions gets a clear error and nothing changes.
use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

my ($node1, $node2, $node3) = new_cluster(3, timeout_ms => 3000);
$node1->safe_psql(
	'postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	SELECT phantom_create_distributed_table('accounts', 'id', 8);
	INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 40) g;
});

# One key whose shard is on node2 and one on node3: the transaction's
# participants, prepared in node id order (node2 first).
my ($k2, $k3) = map { key_on($node1, 'accounts', $_, 40) } qw(node2 node3);
ok($k2 && $k3, "keys on node2 ($k2) and node3 ($k3)");
my @transfer = (
	'BEGIN',
	"UPDATE accounts SET balance = balance - 10 WHERE id = $k2",
	"UPDATE accounts SET balance = balance + 10 WHERE id = $k3", 'COMMIT');

# Balances of the two keys as every node stores them (each key lives on one
# node, so this reads through the coordinator's routing).
sub balances
{
	return $node1->safe_psql('postgres',
		"SELECT (SELECT balance FROM accounts WHERE id = $k2) || ',' || (SELECT balance FROM accounts WHERE id = $k3)");
}

sub prepared_left
{
	return join(',',
		map { $_->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts') } ($node2, $node3));
}

sub wait_resolved
{
	my ($what) = @_;
	my $start = time;
	while (time - $start < 30)
	{
		my $left = prepared_left();
		my $records = $node1->safe_psql('postgres', 'SELECT count(*) FROM phantomdb.transaction_commits');
		return time - $start if $left eq '0,0' && $records eq '0';
		usleep(100_000);
	}
	fail("$what: prepared transactions resolved (left: " . prepared_left() . ')');
	return undef;
}

my @points = qw(before_prepare after_some_prepares after_prepares after_commit_record after_some_commits);
my %committed_if_coordinator_dies = map { $_ => /commit/ ? 1 : 0 } @points;

for my $point (@points)
{
	for my $victim ($node1, $node2, $node3)
	{
		my $case = "$point, " . $victim->name . ' killed';
		$node1->safe_psql('postgres', "UPDATE accounts SET balance = 100 WHERE id IN ($k2, $k3)");
		my ($h, $err) = start_paused($node1, $point, @transfer);
		$victim->kill9;
		start_again($victim);
		# The coordinator's backend died with it; a participant's death
		# leaves the coordinator stopped until released.
		if ($victim == $node1)
		{
			$h->finish;
		}
		else
		{
			release_paused($node1, $h);
		}

		my $expect_commit;
		if ($victim == $node1)
		{
			$expect_commit = $committed_if_coordinator_dies{$point};
		}
		else
		{
			# A participant that dies before it prepared takes the transaction
			# with it; once both prepared, the commit goes through and
			# recovery finishes what the dead node missed.
			$expect_commit =
			    $point eq 'before_prepare' ? 0
			  : $point eq 'after_some_prepares' ? ($victim == $node2 ? 1 : 0)
			  :                                   1;
		}
		my $seconds = wait_resolved($case);
		is(balances(), $expect_commit ? '90,110' : '100,100',
			"$case: " . ($expect_commit ? 'all' : 'none') . ' of the transaction');
		note(sprintf("%s: in-doubt transactions resolved %.2f s after the restart", $case, $seconds))
		  if defined $seconds;
		next if $victim == $node1;
		is(($h->full_results)[0] >> 8, $expect_commit ? 0 : 1, "$case: COMMIT " . ($expect_commit ? 'succeeds' : 'fails'));
		# The dead node missed its COMMIT PREPARED (unless it had it already).
		if ($expect_commit && !($point eq 'after_some_commits' && $victim == $node2))
		{
			like($$err, qr/WARNING:  could not commit prepared transaction phantom_\d+_\d+_\d+ on node/,
				"$case: the commit warns about the dead node");
		}
	}
}

# A node restarting under an open transaction that wrote there: the
# statement that meets the broken connection fails, and after ROLLBACK TO
# the transaction can only roll back, since its work on that node is gone.
$node1->safe_psql('postgres', "UPDATE accounts SET balance = 100 WHERE id IN ($k2, $k3)");
my ($in, $out_lost, $err_lost) = ('', '', '');
my $session = IPC::Run::start(['psql', '-X', '-At', '-d', $node1->connstr('postgres')],
	'<', \$in, '>', \$out_lost, '2>', \$err_lost);
$in .= "BEGIN;\nUPDATE accounts SET balance = 1 WHERE id = $k2;\nSAVEPOINT s;\nSELECT 'written';\n";
$session->pump until $out_lost =~ /written/;
$node2->restart;
$in .= "UPDATE accounts SET balance = 2 WHERE id = $k2;\nROLLBACK TO SAVEPOINT s;\n"
  . "UPDATE accounts SET balance = 3 WHERE id = $k3;\nCOMMIT;\n\\q\n";
$session->finish;
like($err_lost, qr/ERROR:  this transaction lost its connection to node 127\.0\.0\.1:${\$node2->port} after writing there/,
	'a transaction whose connection to a node it wrote on broke cannot go on');
like($err_lost, qr/HINT:  Roll back the whole transaction and retry it\./, '... with a hint');
is(balances(), '100,100', '... and nothing of it committed');

# A transaction with writes on two nodes, one of which does not allow
# prepared transactions: a clear error naming the node, and nothing changes.
$node1->safe_psql('postgres', "UPDATE accounts SET balance = 100 WHERE id IN ($k2, $k3)");
$node3->append_conf('postgresql.conf', 'max_prepared_transactions = 0');
$node3->restart;
my ($rc, $out, $err) = $node1->psql('postgres', qq{
	BEGIN;
	UPDATE accounts SET balance = balance - 10 WHERE id = $k2;
	UPDATE accounts SET balance = balance + 10 WHERE id = $k3;
	COMMIT;});
like($err, qr/ERROR:  node 127\.0\.0\.1:${\$node3->port}: prepared transactions are disabled/,
	'max_prepared_transactions = 0 on a participant: the error names the node');
like($err, qr/HINT:  Set max_prepared_transactions to a nonzero value/, '... with the hint');
is(balances(), '100,100', '... and nothing changed');
is(prepared_left(), '0,0', '... and no prepared transaction is left');

done_testing();
