# Differential test: every query runs on node1 twice, once with search_path
# at schema "dist" (tables distributed by PhantomDB over three nodes) and
# once at schema "plain" (the same rows in ordinary tables). Plain Postgres
# is the oracle: any difference in rows, or an error on one side only, is a
# wrong answer from PhantomDB, whatever the plan.
#
# Two sources of queries:
#   test/differential/corpus.sql        hand-written, one query per line
#   test/differential/QueryGenerator.pm seeded random queries; a divergent
#                                       one is shrunk to a minimal query
#
# Environment:
#   PHANTOM_DIFF_SEED     generator seed (default fixed, printed)
#   PHANTOM_DIFF_QUERIES  number of generated queries (default 300)
#   PHANTOM_DIFF_START    number of the first generated query (default 1);
#                         with PHANTOM_DIFF_QUERIES=1 reruns one query
#   PHANTOM_DIFF_CORPUS   0 skips the corpus (for generator soaks)
use strict;
use warnings;

use FindBin;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $diffdir;
BEGIN { $diffdir = dirname($FindBin::RealBin) . '/differential'; }
use lib $diffdir;
use lib dirname($FindBin::RealBin) . '/perl';
use PhantomNode;
use QueryGenerator;

my $started = time;

# ---------------------------------------------------------------------------
# A long-lived psql session with one search_path. Queries go through one
# psql process per schema (starting psql per query would dominate the run
# time); after each query psql echoes a marker on stdout and stderr, and
# everything before it is that query's output.
# ---------------------------------------------------------------------------
package DiffSession
{
	use IPC::Run;

	sub new
	{
		my ($class, $node, $schema) = @_;
		my $self = bless { node => $node, schema => $schema, count => 0 }, $class;
		$self->start;
		return $self;
	}

	sub start
	{
		my ($self) = @_;
		my $node = $self->{node};
		@$self{qw(in out err)} = ('', '', '');
		# A hung query must not hang the test: statement_timeout turns it
		# into an error (a divergence unless both sides time out), and the
		# IPC::Run timer catches a psql that stops answering altogether.
		$self->{timer} = IPC::Run::timeout(120);
		local %ENV = %ENV;
		$ENV{PGOPTIONS} = "-c search_path=$self->{schema},public -c TimeZone=UTC -c DateStyle=ISO,YMD "
		  . "-c IntervalStyle=postgres -c extra_float_digits=1 -c statement_timeout=30s "
		  . "-c client_min_messages=error";
		$self->{run} = IPC::Run::start(
			[
				$node->installed_command('psql'), '-XAtq', '-d', $node->connstr('postgres'),
				'-v', 'ON_ERROR_STOP=0', '-v', 'VERBOSITY=verbose', '-P', 'null=<NULL>', '-f', '-'
			],
			'<', \$self->{in}, '>', \$self->{out}, '2>', \$self->{err}, $self->{timer});
		my $r = $self->query('SELECT 1');
		die "psql for $self->{schema} did not start: $r->{error}" unless $r->{ok};
	}

	# Returns { ok => 1, rows => [lines] } or { ok => 0, error => SQLSTATE
	# or a description, stderr => text }.
	sub query
	{
		my ($self, $sql) = @_;
		my $n = ++$self->{count};
		my $marker = "--diff-marker-$n--";
		$sql =~ s/;\s*$//;
		$self->{in} .= "$sql\n;\n\\echo '$marker'\n\\warn '$marker'\n";
		$self->{timer}->start;
		my $pumped = eval {
			$self->{run}->pump
			  until $self->{out} =~ /^\Q$marker\E\n/m && $self->{err} =~ /^\Q$marker\E\n/m;
			1;
		};
		if (!$pumped)
		{
			# psql exited (a backend crash ends its connection) or timed
			# out. Start over; the caller reports what happened.
			my $why = $@ || 'psql stopped';
			my $stderr = $self->{err};
			eval { $self->{run}->kill_kill; };
			$self->restart_after_crash;
			$why =~ s/\s+$//;
			return { ok => 0, error => 'psql lost its connection', stderr => "$stderr\n$why" };
		}
		my ($out) = $self->{out} =~ /^(.*?)^\Q$marker\E\n/ms;
		my ($err) = $self->{err} =~ /^(.*?)^\Q$marker\E\n/ms;
		$self->{out} = $self->{err} = '';
		$out //= '';
		$err //= '';
		# With VERBOSITY verbose an error reads "ERROR:  22012: division by
		# zero"; the SQLSTATE decides, the message helps the reader.
		if ($err =~ /ERROR:\s+([0-9A-Z]{5}):\s*(.*)/)
		{
			return { ok => 0, error => $1, message => $2, stderr => $err };
		}
		if ($err =~ /(FATAL|PANIC|server closed the connection|connection to server was lost)/)
		{
			return { ok => 0, error => 'connection failure', stderr => $err };
		}
		# One line per row; a row of one empty string is an empty line, so
		# keep empty fields (split drops trailing ones by default).
		return { ok => 1, rows => [] } if $out eq '';
		$out =~ s/\n\z//;
		return { ok => 1, rows => [ split /\n/, $out, -1 ] };
	}

	# After a crash the postmaster restarts every backend; wait for it.
	sub restart_after_crash
	{
		my ($self) = @_;
		my $node = $self->{node};
		$node->poll_query_until('postgres', 'SELECT true')
		  or die "node1 did not come back after a crash";
		$self->start;
	}

	sub quit
	{
		my ($self) = @_;
		$self->{in} .= "\\q\n";
		$self->{run}->finish;
	}
}

package main;

# ---------------------------------------------------------------------------
# Comparing one query on both sides.
# ---------------------------------------------------------------------------

# Renders a result for a failure message, cut to a readable size.
sub show_result
{
	my ($r) = @_;
	return "ERROR $r->{error}: " . ($r->{message} // $r->{stderr} // '') unless $r->{ok};
	my @rows = @{ $r->{rows} };
	my $text = scalar(@rows) . " row(s)";
	my $max = 12;
	$text .= "\n      " . join("\n      ", @rows[ 0 .. ($#rows < $max - 1 ? $#rows : $max - 1) ]) if @rows;
	$text .= "\n      ... " . (@rows - $max) . " more" if @rows > $max;
	return $text;
}

# What differs between two results: the rows only one side has (as
# multisets), or, when both hold the same rows, the first position where an
# ordered result differs.
sub show_difference
{
	my ($dist, $plain, $ordered) = @_;
	return "  dist:  " . show_result($dist) . "\n  plain: " . show_result($plain)
	  if !$dist->{ok} || !$plain->{ok};
	my (%count, @only_dist, @only_plain);
	$count{$_}++ for @{ $plain->{rows} };
	for my $row (@{ $dist->{rows} })
	{
		if   ($count{$row}) { $count{$row}--; }
		else                { push @only_dist, $row; }
	}
	for my $row (@{ $plain->{rows} })
	{
		push @only_plain, $row if $count{$row} && $count{$row}--;
	}
	my $text = sprintf("  dist: %d row(s), plain: %d row(s)\n", scalar @{ $dist->{rows} }, scalar @{ $plain->{rows} });
	if (!@only_dist && !@only_plain)
	{
		my $i = 0;
		$i++ while $dist->{rows}[$i] eq $plain->{rows}[$i];
		return $text . "  same rows in another order; first difference at row " . ($i + 1)
		  . ": dist '$dist->{rows}[$i]', plain '$plain->{rows}[$i]'";
	}
	for ([ 'only in dist', \@only_dist ], [ 'only in plain', \@only_plain ])
	{
		my ($label, $rows) = @$_;
		next unless @$rows;
		my @shown = @$rows > 8 ? (@$rows[ 0 .. 7 ], '... ' . (@$rows - 8) . ' more') : @$rows;
		$text .= "  $label (" . scalar(@$rows) . "):\n      " . join("\n      ", @shown) . "\n";
	}
	chomp $text;
	return $text;
}

# Two results match when both succeed with the same rows (in the same order
# for an ordered query, as multisets otherwise), or both fail with the same
# SQLSTATE.
sub same_result
{
	my ($dist, $plain, $ordered) = @_;
	return $dist->{error} eq $plain->{error} if !$dist->{ok} && !$plain->{ok};
	return 0 if !$dist->{ok} || !$plain->{ok};
	my @d = @{ $dist->{rows} };
	my @p = @{ $plain->{rows} };
	return 0 if @d != @p;
	unless ($ordered)
	{
		@d = sort @d;
		@p = sort @p;
	}
	for my $i (0 .. $#d)
	{
		return 0 if $d[$i] ne $p[$i];
	}
	return 1;
}

my ($dist, $plain);

sub run_both
{
	my ($sql) = @_;
	my $d = $dist->query($sql);
	# A crash on the dist side also ended the plain session's backend.
	$plain->restart_after_crash if !$d->{ok} && $d->{error} =~ /connection/;
	my $p = $plain->query($sql);
	return ($d, $p);
}

# Reads the corpus: "--" lines are comments, every other non-blank line is
# one query; "ordered: " in front marks a query whose top-level ORDER BY is
# total, compared row by row in order.
sub read_corpus
{
	my ($file) = @_;
	open my $fh, '<', $file or die "cannot open $file: $!";
	my @queries;
	while (my $line = <$fh>)
	{
		chomp $line;
		next if $line =~ /^\s*(--.*)?$/;
		my $ordered = $line =~ s/^ordered:\s*//;
		push @queries, { sql => $line, ordered => $ordered, line => $. };
	}
	close $fh;
	return @queries;
}

# ---------------------------------------------------------------------------
# The cluster: three nodes, node1 administers; schema loaded on node1.
# ---------------------------------------------------------------------------
my @nodes = map { new_node("node$_") } 1 .. 3;
my ($node1, $node2, $node3) = @nodes;
$_->safe_psql('postgres', 'CREATE EXTENSION phantomdb') for @nodes;
for my $node ($node2, $node3)
{
	$node1->safe_psql('postgres', "SELECT phantom_add_node('127.0.0.1', ${\$node->port}, '${\$node->name}')");
}
{
	my ($ret, $stdout, $stderr) = $node1->psql('postgres', undef, extra_params => [ '-f', "$diffdir/schema.sql" ]);
	is($ret, 0, 'schema.sql loads on node1') or diag($stderr);
}
is( $node1->safe_psql('postgres',
		q{SELECT count(*) FROM phantom_tables WHERE "table"::text LIKE 'dist.%'}),
	'5', 'four distributed tables and one reference table');

$dist = DiffSession->new($node1, 'dist');
$plain = DiffSession->new($node1, 'plain');

# Sanity: the two schemas hold the same rows before any query is compared.
for my $table (qw(customers orders lineitems events regions holidays))
{
	my ($d, $p) = run_both("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM $table t");
	ok(same_result($d, $p, 1), "$table has the same rows in dist and plain")
	  or diag("dist: " . show_result($d) . "\nplain: " . show_result($p));
}

# ---------------------------------------------------------------------------
# The corpus.
# ---------------------------------------------------------------------------
unless (defined $ENV{PHANTOM_DIFF_CORPUS} && $ENV{PHANTOM_DIFF_CORPUS} eq '0')
{
	my @corpus = read_corpus("$diffdir/corpus.sql");
	my $t0 = time;
	my (@divergent, $both_failed);
	for my $q (@corpus)
	{
		my $qt = time;
		my ($d, $p) = run_both($q->{sql});
		$q->{seconds} = time - $qt;
		if (!$d->{ok} && !$p->{ok})
		{
			$both_failed++;
			note("corpus.sql line $q->{line} fails on both sides: " . show_result($p));
		}
		next if same_result($d, $p, $q->{ordered});
		push @divergent, $q;
		diag("corpus.sql line $q->{line} diverges:\n  $q->{sql}\n" . show_difference($d, $p, $q->{ordered}));
	}
	note(sprintf('corpus: %d queries in %.1f s, %d failed identically on both sides',
		scalar(@corpus), time - $t0, $both_failed // 0));
	# The slowest queries, to keep an eye on the run time.
	my @slow = (sort { $b->{seconds} <=> $a->{seconds} } @corpus)[ 0 .. 4 ];
	note(sprintf('  %.2f s  line %d: %s', $_->{seconds}, $_->{line}, $_->{sql})) for @slow;
	cmp_ok(scalar(@corpus), '>=', 300, 'the corpus has at least 300 queries');
	is(scalar(@divergent), 0, 'corpus: distributed results match plain Postgres')
	  or diag('divergent corpus lines: ' . join(', ', map { $_->{line} } @divergent));
}

# ---------------------------------------------------------------------------
# Generated queries.
# ---------------------------------------------------------------------------
{
	my $seed = $ENV{PHANTOM_DIFF_SEED} // 20260101;
	my $count = $ENV{PHANTOM_DIFF_QUERIES} // 300;
	note("generator: seed $seed, $count queries (PHANTOM_DIFF_SEED=$seed PHANTOM_DIFF_QUERIES=$count reproduces)");
	diag("generator seed $seed");
	my $first = $ENV{PHANTOM_DIFF_START} // 1;
	my $gen = QueryGenerator->new(seed => $seed, start => $first);
	my $t0 = time;
	my ($divergent, $both_failed, $plain_failed) = (0, 0, 0);
	for my $i ($first .. $first + $count - 1)
	{
		my $query = $gen->generate;
		my $sql = $gen->render($query);
		my $ordered = $gen->is_ordered($query);
		my ($d, $p) = run_both($sql);
		$both_failed++ if !$d->{ok} && !$p->{ok};
		if (!$p->{ok})
		{
			# The generator should only write valid SQL; say what went wrong.
			$plain_failed++;
			note("generated query $i fails on plain: " . show_result($p) . "
  $sql");
		}
		next if same_result($d, $p, $ordered);
		$divergent++;

		# Shrink: keep any smaller query that still diverges while plain
		# Postgres still accepts it (or fails as it did on the original).
		# A minute at most per query: a candidate that hits statement_timeout
		# costs 30 s, and a failing run should still end.
		my $shrink_deadline = time + 60;
		my $still_diverges = sub {
			my ($candidate) = @_;
			return 0 if time > $shrink_deadline;
			my $csql = $gen->render($candidate);
			my ($cd, $cp) = run_both($csql);
			return 0 if ($cp->{ok} ? 'ok' : $cp->{error}) ne ($p->{ok} ? 'ok' : $p->{error});
			return !same_result($cd, $cp, $gen->is_ordered($candidate));
		};
		my $minimal = $gen->shrink($query, $still_diverges);
		my $msql = $gen->render($minimal);
		my ($md, $mp) = run_both($msql);
		diag("generated query $i (seed $seed) diverges:\n  $sql\n"
			  . "  minimal:\n  $msql\n" . show_difference($md, $mp, $gen->is_ordered($minimal)));
	}
	note(sprintf('generator: %d queries in %.1f s, %d failed on plain, %d failed identically on both sides',
		$count, time - $t0, $plain_failed, $both_failed));
	is($divergent, 0, "generator: $count queries (seed $seed) match plain Postgres");
}

$dist->quit;
$plain->quit;
$_->stop for @nodes;
note(sprintf('003_differential took %.1f s', time - $started));
done_testing();
