# Two-phase commit under load and crashes: clients move money between 40
# accounts spread over three nodes (every transfer between two nodes is a
# distributed transaction; transfers in opposite directions deadlock, within
# a node or across nodes, and are retried), while a participant, then the
# coordinator, then the other participant is killed with SIGKILL of its
# postmaster and restarted. Afterwards no money was made or lost, no
# prepared transaction is left and every commit record is gone.
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

my ($node1, $node2, $node3) = new_cluster(3, timeout_ms => 2000);
$node1->safe_psql(
	'postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	SELECT phantom_create_distributed_table('accounts', 'id', 6);
	INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 40) g;
});
is($node1->safe_psql('postgres', q{SELECT count(DISTINCT node) FROM phantom_shards WHERE "table" = 'accounts'::regclass}),
	'3', 'the accounts are on three nodes');

my $script = PostgreSQL::Test::Utils::tempdir() . '/transfer.sql';
open(my $fh, '>', $script) or die;
print $fh <<'SQL';
\set a random(1, 40)
\set b random(1, 40)
BEGIN;
UPDATE accounts SET balance = balance - 1 WHERE id = :a;
UPDATE accounts SET balance = balance + 1 WHERE id = :b;
COMMIT;
SQL
close($fh);

# Clients for 16 s, reconnecting while the coordinator is down: pgbench
# runs of 2 s one after another (a run ends early when its node dies).
my $connstr = $node1->connstr('postgres');
my $load = IPC::Run::start(
	[
		'bash', '-c',
		qq{end=\$((SECONDS + 16)); runs=0
		   while [ \$SECONDS -lt \$end ]; do
		     pgbench -n -c 4 -j 2 -T 2 --max-tries=20 -f '$script' '$connstr' >/dev/null 2>&1; runs=\$((runs + 1)); sleep 0.2
		   done; echo \$runs}
	],
	'>', \my $runs, '2>', \my $load_err);

for my $victim ($node2, $node1, $node3)
{
	sleep 4;
	note('killing ' . $victim->name);
	$victim->kill9;
	start_again($victim);
}
$load->finish;
chomp $runs;
ok($runs > 3, "the clients kept running ($runs pgbench runs)");

my $committed = $node1->safe_psql('postgres', 'SELECT count(*) FROM accounts WHERE balance <> 100');
ok($committed > 0, "transfers committed ($committed accounts changed)");

my $start = time;
my ($left, $records) = ('', '');
while (time - $start < 30)
{
	$left = join(',', map { $_->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts') } ($node1, $node2, $node3));
	$records = $node1->safe_psql('postgres', 'SELECT count(*) FROM phantomdb.transaction_commits');
	last if $left eq '0,0,0' && $records eq '0';
	usleep(200_000);
}
is($left, '0,0,0', 'no prepared transaction is left on any node');
is($records, '0', 'every commit record is cleaned up');
is($node1->safe_psql('postgres', 'SELECT count(*), sum(balance) FROM accounts'),
	'40|4000', 'no money was made or lost');

# Each node's shards hold exactly the rows the coordinator reads.
my $per_node = 0;
for my $node ($node1, $node2, $node3)
{
	$per_node += $node->safe_psql(
		'postgres', q{
		SELECT coalesce(sum((xpath('/row/s/text()',
		         query_to_xml(format('SELECT sum(balance) AS s FROM %I', c.relname), false, true, '')))[1]::text::int), 0)
		  FROM pg_class c WHERE c.relname ~ '^accounts_[0-9]+$' AND c.relkind = 'r'});
}
is($per_node, 4000, 'the shards on the nodes sum to the same total');

done_testing();
