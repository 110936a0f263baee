# What a reader can see while a distributed transaction commits, exactly as
# docs/transactions.md ("Isolation") states it:
#  1. between the first and the last COMMIT PREPARED, a multi-shard read may
#     see the transaction on some nodes and not on others (fractured read);
#  2. before any COMMIT PREPARED, readers see none of it, and writers of its
#     rows wait;
#  3. there is no cluster-wide snapshot: a REPEATABLE READ transaction takes
#     each node's snapshot when it first reads there, so it can see a later
#     transaction on one node and not on another (read skew);
#  4. recovery running meanwhile leaves a live transaction alone, and resolves
#     one whose coordinator already committed.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PhantomNode;

# Recovery runs only when this test calls it (and once as each node starts).
my ($node1, $node2, $node3) =
  new_cluster(3, timeout_ms => 3000, conf => ['phantomdb.max_prepared_recovery_interval_ms = 3600000']);
$node1->safe_psql(
	'postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	SELECT phantom_create_distributed_table('accounts', 'id', 8);
	INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 40) g;
});

my ($k2, $k3) = map { key_on($node1, 'accounts', $_, 40) } qw(node2 node3);
my $pair = "SELECT (SELECT balance FROM accounts WHERE id = $k2) || ',' || (SELECT balance FROM accounts WHERE id = $k3)";
my $sum = "SELECT sum(balance) FROM accounts WHERE id IN ($k2, $k3)";
# The transfer of 10 from k2 to k3, stopped at a fault point.
sub paused_transfer
{
	return start_paused(
		$node1, $_[0], 'BEGIN',
		"UPDATE accounts SET balance = balance - 10 WHERE id = $k2",
		"UPDATE accounts SET balance = balance + 10 WHERE id = $k3", 'COMMIT');
}

# 1. Fractured read: node2 committed, node3 still prepared.
my ($h) = paused_transfer('after_some_commits');
is($node1->safe_psql('postgres', $pair), '90,100', 'mid-commit: the read sees node2 committed and node3 not yet');
is($node1->safe_psql('postgres', $sum), '190', 'mid-commit: so a sum over both nodes is off');
release_paused($node1, $h);
is($node1->safe_psql('postgres', $pair), '90,110', 'after the commit: both');

# 2. Prepared, not yet committed anywhere: readers see the old values, a
# writer of the row waits for the outcome.
($h) = paused_transfer('after_prepares');
is($node1->safe_psql('postgres', $pair), '90,110', 'prepared: readers see none of it');
my ($wout, $werr) = ('', '');
my $writer = IPC::Run::start(
	[
		'psql', '-X', '-qAt', '-d', $node1->connstr('postgres'),
		'-c', "UPDATE accounts SET balance = balance + 1 WHERE id = $k2 RETURNING balance"
	],
	'>', \$wout, '2>', \$werr);
sleep 1;
ok($writer->pumpable && $wout eq '', 'prepared: a writer of its row waits');
# 4. Recovery leaves the live transaction alone.
is($node1->safe_psql('postgres', 'SELECT phantom_recover_prepared_transactions()'),
	'0', 'recovery does not touch a transaction whose coordinator is still deciding');
release_paused($node1, $h);
$writer->finish;
is($wout, "81\n", 'the waiting writer runs after the commit, on the committed value');
is($node1->safe_psql('postgres', $pair), '81,120', 'both committed');

# 4. The coordinator committed but has not sent COMMIT PREPARED yet:
# recovery from another session finishes it; the committing backend then
# finds nothing left to do and does not warn.
($h, my $err) = paused_transfer('after_commit_record');
is($node1->safe_psql('postgres', 'SELECT phantom_recover_prepared_transactions()'),
	'2', 'recovery commits what the coordinator decided (two participants)');
is($node1->safe_psql('postgres', $pair), '71,130', 'committed on both nodes');
release_paused($node1, $h);
unlike($$err, qr/WARNING/, 'the committing session does not warn');
is($node1->safe_psql('postgres', 'SELECT count(*) FROM phantomdb.transaction_commits'),
	'0', 'the same recovery pass removed the commit record');

# 3. No cluster-wide snapshot: a REPEATABLE READ transaction reads k2 (its
# snapshot on node2 is taken), a transfer commits, then it reads k3 (its
# snapshot on node3 is taken now and includes the transfer).
my ($rin, $rout, $rerr) = ('', '', '');
my $reader = IPC::Run::start(['psql', '-X', '-At', '-d', $node1->connstr('postgres')],
	'<', \$rin, '>', \$rout, '2>', \$rerr);
$rin .= "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT balance FROM accounts WHERE id = $k2;\n";
$reader->pump until $rout =~ /^71$/m;
$node1->safe_psql('postgres',
	"BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = $k2; "
	  . "UPDATE accounts SET balance = balance + 10 WHERE id = $k3; COMMIT;");
$rin .= "SELECT balance FROM accounts WHERE id = $k3;\nCOMMIT;\n\\q\n";
$reader->finish;
is($rout, "BEGIN\n71\n140\nCOMMIT\n", 'REPEATABLE READ: old value on node2, new value on node3 (read skew)');

done_testing();
