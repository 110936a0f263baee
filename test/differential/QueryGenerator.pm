# Seeded random SELECT generator for test/t/003_differential.pl.
#
# Queries are built as Perl structures first and rendered to SQL second, so
# that a divergent query can be shrunk: shrink() tries structures with one
# piece less (a WHERE conjunct, a select item, a join, GROUP BY, HAVING,
# ORDER BY/LIMIT, DISTINCT, one side of a set operation) and keeps every
# removal after which the query still diverges.
#
# Every query it generates is meant to be valid SQL over test/differential/
# schema.sql whose result does not depend on the plan:
#  - LIMIT/OFFSET only under an ORDER BY of every output column, so the
#    order is total up to identical rows;
#  - window functions only where ties cannot change the result (rank,
#    dense_rank, cume_dist, and aggregates with the default RANGE frame,
#    which covers all peers);
#  - array_agg/string_agg ordered by the aggregated value itself;
#  - floating point only through round(..., 6) of numeric values.
package QueryGenerator;

use strict;
use warnings;

use Storable qw(dclone);

# The schema: column types are coarse categories (int covers int and
# bigint; num is numeric; ts is timestamptz), enough to build well-typed
# expressions and to line up set-operation branches.
my %TABLES = (
	customers => {
		alias => 'c',
		cols => [ [ id => 'int' ], [ name => 'text' ], [ region => 'text' ], [ tier => 'int' ], [ created => 'date' ] ],
	},
	orders => {
		alias => 'o',
		cols => [
			[ id => 'int' ], [ customer_id => 'int' ], [ amount => 'num' ], [ status => 'text' ], [ placed => 'date' ],
			[ note => 'text' ]
		],
	},
	lineitems => {
		alias => 'l',
		cols => [ [ order_id => 'int' ], [ line => 'int' ], [ qty => 'int' ], [ price => 'num' ], [ sku => 'text' ] ],
	},
	events => {
		alias => 'e',
		cols => [ [ key => 'text' ], [ ts => 'ts' ], [ kind => 'text' ], [ val => 'int' ] ],
	},
	regions => { alias => 'r', cols => [ [ name => 'text' ], [ manager => 'text' ] ] },
	holidays => { alias => 'h', cols => [ [ d => 'date' ] ] },
);
my @TABLE_NAMES = sort keys %TABLES;

# How tables join: colocated on the distribution column (customers/orders),
# not colocated (orders/lineitems, customers/lineitems, events), with the
# reference table (regions) and with the local table (holidays). %1$s is the
# first table's alias, %2$s the second's.
my @EDGES = (
	[ 'customers', 'orders',    '%2$s.customer_id = %1$s.id' ],
	[ 'orders',    'lineitems', '%2$s.order_id = %1$s.id' ],
	[ 'customers', 'lineitems', '%2$s.order_id = %1$s.id' ],
	[ 'customers', 'regions',   '%2$s.name = %1$s.region' ],
	[ 'orders',    'holidays',  '%2$s.d = %1$s.placed' ],
	[ 'customers', 'holidays',  '%2$s.d = %1$s.created' ],
	[ 'customers', 'events',    q{%2$s.key = 'k' || %1$s.id} ],
	[ 'orders',    'events',    '%2$s.val = %1$s.id' ],
);

# Constants that hit the data (schema.sql), per column.
my %CONSTANTS = (
	'customers.id' => sub { pick(-3, 1, 7, 8, 42, 250, 299, 301, int(rand(300))) },
	'customers.name' => sub { "'cust" . int(rand(97)) . "'" },
	'customers.region' => sub { pick(map {"'$_'"} qw(north south east west central polar)) },
	'customers.tier' => sub { int(rand(5)) - 1 },
	'customers.created' => sub { "date '2020-01-01' + " . int(rand(1500)) },
	'orders.id' => sub { pick(1, 42, 1500, 1501, 2010, 1 + int(rand(2020))) },
	'orders.customer_id' => sub { pick(7, 8, 900, 1 + int(rand(250))) },
	'orders.amount' => sub { sprintf('%.2f', rand(200) - 20) },
	'orders.status' => sub { pick(map {"'$_'"} qw(new paid shipped cancelled)) },
	'orders.placed' => sub { "date '2025-01-01' + " . int(rand(400)) },
	'orders.note' => sub { pick("''", "'note " . int(rand(50)) . "'") },
	'lineitems.order_id' => sub { pick(2 * (1 + int(rand(1000))), 5001 + int(rand(10))) },
	'lineitems.line' => sub { 1 + int(rand(4)) },
	'lineitems.qty' => sub { int(rand(7)) - 1 },
	'lineitems.price' => sub { sprintf('%.1f', rand(50)) },
	'lineitems.sku' => sub { sprintf(q{'SKU-%03d'}, int(rand(40))) },
	'events.key' => sub { "'k" . int(rand(64)) . "'" },
	'events.ts' => sub { "timestamptz '2025-03-01 00:00:00+00' + interval '" . int(rand(740)) . " hours'" },
	'events.kind' => sub { pick(map {"'$_'"} qw(click view buy)) },
	'events.val' => sub { int(rand(200)) - 50 },
	'regions.name' => sub { pick(map {"'$_'"} qw(north south east west polar)) },
	'regions.manager' => sub { pick(map {"'$_'"} qw(ann bob cy dee)) },
	'holidays.d' => sub { "date '2025-01-01' + " . 11 * int(rand(40)) },
);

sub pick { return $_[ int(rand(@_)) ] }
sub chance { return rand() < $_[0] }

sub new
{
	my ($class, %args) = @_;
	# count: the number of the last query generated; start => N makes the
	# next one query N.
	my $self = bless { seed => $args{seed} // 1, count => ($args{start} // 1) - 1, sub_alias => 0 }, $class;
	return $self;
}

# The next query, as a structure. Each query reseeds from (seed, number) so
# query N of a seed is the same whatever happened before it.
sub generate
{
	my ($self) = @_;
	$self->{count}++;
	srand(($self->{seed} * 1000 + $self->{count}) % 2**32);    # srand keeps 32 bits anyway
	$self->{sub_alias} = 0;
	return $self->gen_setop if chance(0.12);
	return $self->gen_wrapped if chance(0.1);
	return $self->gen_select;
}

# A query used as a derived table or CTE, read whole or counted. The outer
# query has no ORDER BY, so it is compared as a multiset even when the
# inner one is ordered (its LIMIT under a total order still picks a
# definite set of rows).
my @WRAPPERS = (
	'SELECT * FROM (%s) sub',
	'WITH sub AS (%s) SELECT * FROM sub',
	'WITH sub AS MATERIALIZED (%s) SELECT count(*) FROM sub',
	'SELECT count(*) FROM (%s) sub',
);

sub gen_wrapped
{
	my ($self) = @_;
	my $inner = chance(0.2) ? $self->gen_setop : $self->gen_select;
	return { kind => 'wrap', wrapper => pick(@WRAPPERS), inner => $inner };
}

# ---------------------------------------------------------------------------
# Building blocks. An expression is { sql, type, aliases => { alias => 1 } }
# so that removing a join can drop what depends on it.
# ---------------------------------------------------------------------------

sub column_ref
{
	my ($from) = @_;
	my $t = pick(@$from);
	my $col = pick(@{ $TABLES{ $t->{table} }{cols} });
	return { sql => "$t->{alias}.$col->[0]", type => $col->[1], aliases => { $t->{alias} => 1 },
		const => $CONSTANTS{"$t->{table}.$col->[0]"} };
}

# A scalar expression over one column, possibly transformed.
sub scalar_expr
{
	my ($from) = @_;
	my $c = column_ref($from);
	# Only plain data in the structure (it is copied with dclone).
	return { sql => $c->{sql}, type => $c->{type}, aliases => $c->{aliases} } if chance(0.6);
	my ($x, $type) = ($c->{sql}, $c->{type});
	my @forms;
	if ($type eq 'int')
	{
		@forms = ([ "$x + " . (1 + int(rand(9))), 'int' ], [ "$x * " . (2 + int(rand(3))), 'int' ],
			[ "abs($x)", 'int' ], [ "$x % " . (2 + int(rand(7))), 'int' ], [ "coalesce($x, -99)", 'int' ],
			[ "CASE WHEN $x > 2 THEN 'big' WHEN $x IS NULL THEN 'none' ELSE 'small' END", 'text' ]);
	}
	elsif ($type eq 'num')
	{
		@forms = ([ "round($x * 1.5, 2)", 'num' ], [ "abs($x)", 'num' ], [ "coalesce($x, -999.99)", 'num' ],
			[ "floor($x)", 'num' ], [ "$x - 10", 'num' ]);
	}
	elsif ($type eq 'text')
	{
		@forms = ([ "upper($x)", 'text' ], [ "length($x)", 'int' ], [ "coalesce($x, 'none')", 'text' ],
			[ "substr($x, 1, 3)", 'text' ], [ "$x || '-'", 'text' ], [ "nullif($x, '')", 'text' ],
			[ "CASE WHEN $x LIKE '%1%' THEN 1 ELSE 2 END", 'int' ]);
	}
	elsif ($type eq 'date')
	{
		@forms = ([ "$x + 7", 'date' ], [ "extract(month FROM $x)", 'num' ],
			[ "date_trunc('month', $x)::date", 'date' ], [ "$x - date '2025-01-01'", 'int' ]);
	}
	else    # ts
	{
		@forms = ([ "date_trunc('day', $x)", 'ts' ], [ "${x}::date", 'date' ], [ "extract(hour FROM $x)", 'num' ]);
	}
	my $f = pick(@forms);
	return { sql => $f->[0], type => $f->[1], aliases => $c->{aliases} };
}

# An expression of a wanted type for set-operation branches, or undef.
sub expr_of_type
{
	my ($from, $want) = @_;
	for (1 .. 30)
	{
		my $e = scalar_expr($from);
		return $e if type_class($e->{type}) eq type_class($want);
	}
	return undef;
}

# int and num line up in UNION (both numeric); the rest only with themselves.
sub type_class { return $_[0] eq 'int' || $_[0] eq 'num' ? 'number' : $_[0] }

sub simple_predicate
{
	my ($from) = @_;
	my $c = column_ref($from);
	my ($x, $type, $k) = ($c->{sql}, $c->{type}, $c->{const});
	my @forms = ("$x IS NULL", "$x IS NOT NULL");
	push @forms, map { "$x $_ " . $k->() } qw(= <> < <= > >=);
	push @forms, "$x = " . $k->(), "$x < " . $k->(), "$x > " . $k->();    # comparisons most of the time
	push @forms, "$x IN (" . join(', ', map { $k->() } 1 .. 3) . ")";
	push @forms, "$x NOT IN (" . join(', ', map { $k->() } 1 .. 2) . ")";
	if ($type eq 'text')
	{
		push @forms, "$x LIKE '" . pick('n', 'cust1', 'note 1', 'SKU-01', 'k1', 'c') . "%'",
		  "coalesce($x, '') = ''";
	}
	else
	{
		my ($a, $b) = ($k->(), $k->());
		push @forms, "$x BETWEEN $a AND $b", "$x BETWEEN SYMMETRIC $a AND $b";
	}
	push @forms, "$x % 3 = 1" if $type eq 'int';
	return { sql => pick(@forms), aliases => $c->{aliases} };
}

sub predicate
{
	my ($self, $from) = @_;
	my $r = rand();
	if ($r < 0.12)
	{
		my ($p, $q) = (simple_predicate($from), simple_predicate($from));
		return { sql => "($p->{sql} OR $q->{sql})", aliases => { %{ $p->{aliases} }, %{ $q->{aliases} } },
			parts => [ $p, $q ] };
	}
	if ($r < 0.17)
	{
		my $p = simple_predicate($from);
		return { sql => "NOT ($p->{sql})", aliases => $p->{aliases}, parts => [$p] };
	}
	return $self->subquery_predicate($from) if $r < 0.32;
	return simple_predicate($from);
}

# IN / NOT IN / EXISTS / NOT EXISTS / scalar subqueries, correlated through
# a join edge when one connects the outer table to the inner one.
sub subquery_predicate
{
	my ($self, $from) = @_;
	my $outer = pick(@$from);
	my $inner_table = pick(@TABLE_NAMES);
	my $ia = $TABLES{$inner_table}{alias} . 's' . (++$self->{sub_alias});
	my $inner_from = [ { table => $inner_table, alias => $ia } ];
	my $filter = chance(0.7) ? ' AND ' . simple_predicate($inner_from)->{sql} : '';
	my $aliases = { $outer->{alias} => 1 };
	my $r = rand();

	if ($r < 0.45)
	{
		# [NOT] EXISTS, correlated via an edge if there is one.
		my $corr = edge_condition($outer, { table => $inner_table, alias => $ia });
		return simple_predicate($from) unless $corr;
		my $not = chance(0.35) ? 'NOT ' : '';
		return { sql => "${not}EXISTS (SELECT 1 FROM $inner_table $ia WHERE $corr$filter)", aliases => $aliases };
	}
	if ($r < 0.8)
	{
		# x [NOT] IN (SELECT y ...) with x and y of the same class.
		my $x = column_ref([$outer]);
		my @ys = grep { type_class($_->[1]) eq type_class($x->{type}) } @{ $TABLES{$inner_table}{cols} };
		return simple_predicate($from) unless @ys;
		my $y = pick(@ys);
		my $not = chance(0.3) ? 'NOT ' : '';
		my $where = $filter ? ' WHERE' . substr($filter, 4) : '';
		return { sql => "$x->{sql} ${not}IN (SELECT $ia.$y->[0] FROM $inner_table $ia$where)", aliases => $aliases };
	}
	# Scalar: compare with an aggregate of the inner table, correlated or not.
	my $x = column_ref([$outer]);
	my @ys = grep { $_->[1] eq $x->{type} } @{ $TABLES{$inner_table}{cols} };
	my $corr = edge_condition($outer, { table => $inner_table, alias => $ia });
	my $where = join(' AND ', grep {$_} ($corr && chance(0.6) ? $corr : ()), ($filter ? substr($filter, 5) : ()));
	$where = " WHERE $where" if $where;
	if (@ys && $x->{type} ne 'text')
	{
		my $y = pick(@ys);
		my $op = pick('<', '>', '>=', '=');
		return { sql => "$x->{sql} $op (SELECT " . pick('min', 'max') . "($ia.$y->[0]) FROM $inner_table $ia$where)",
			aliases => $aliases };
	}
	return { sql => "(SELECT count(*) FROM $inner_table $ia$where) " . pick('>', '=', '<') . ' ' . int(rand(4)),
		aliases => $aliases };
}

# A correlated scalar subquery in the select list: an aggregate over the
# rows of another table that join with this row.
sub subquery_item
{
	my ($self, $from) = @_;
	my $outer = pick(@$from);
	my @targets = grep { edge_condition($outer, { table => $_, alias => 'x' }) } @TABLE_NAMES;
	my $inner_table = pick(@targets);
	my $ia = $TABLES{$inner_table}{alias} . 's' . (++$self->{sub_alias});
	my $inner = { table => $inner_table, alias => $ia };
	my $corr = edge_condition($outer, $inner);
	my $agg = aggregate([$inner]);
	return { sql => "(SELECT $agg->{sql} FROM $inner_table $ia WHERE $corr)", aliases => { $outer->{alias} => 1 } };
}

# The join condition between two table instances, in either direction.
sub edge_condition
{
	my ($a, $b) = @_;
	for my $e (@EDGES)
	{
		return sprintf($e->[2], $a->{alias}, $b->{alias}) if $e->[0] eq $a->{table} && $e->[1] eq $b->{table};
		return sprintf($e->[2], $b->{alias}, $a->{alias}) if $e->[1] eq $a->{table} && $e->[0] eq $b->{table};
	}
	return undef;
}

sub aggregate
{
	my ($from) = @_;
	my $e = scalar_expr($from);
	my ($x, $type) = ($e->{sql}, $e->{type});
	# %F marks where a FILTER clause goes (inside round(), after the call).
	my @forms = ('count(*)%F', "count($x)%F", "count(DISTINCT $x)%F", "min($x)%F", "max($x)%F",
		"array_agg($x ORDER BY $x)%F");
	if ($type eq 'int' || $type eq 'num')
	{
		push @forms, "sum($x)%F", "round(avg($x)%F, 6)", "round(stddev($x)%F, 6)", "round(variance($x)%F, 6)",
		  "round(var_pop($x)%F, 6)", "round(stddev_samp($x)%F, 6)", "sum($x)%F", "round(avg($x)%F, 6)",
		  "bool_and($x > 0)%F", "bool_or($x < 0)%F", "every($x IS NOT NULL)%F";
	}
	push @forms, "bit_and($x)%F", "bit_or($x)%F" if $type eq 'int';
	push @forms, "string_agg($x, ',' ORDER BY $x)%F", "string_agg(DISTINCT $x, '|' ORDER BY $x)%F" if $type eq 'text';
	my $sql = pick(@forms);
	my %aliases = %{ $e->{aliases} };
	my $filter = '';
	if (chance(0.15))
	{
		my $p = simple_predicate($from);
		$filter = " FILTER (WHERE $p->{sql})";
		%aliases = (%aliases, %{ $p->{aliases} });
	}
	$sql =~ s/%F/$filter/;
	return { sql => $sql, aliases => \%aliases, agg => 1 };
}

sub window_item
{
	my ($from) = @_;
	my $part = scalar_expr($from);
	my $ord = scalar_expr($from);
	my $val = scalar_expr($from);
	my $over = "PARTITION BY $part->{sql}";
	my $with_order = "$over ORDER BY $ord->{sql}" . pick('', ' DESC', ' NULLS FIRST');
	my @forms = ("rank() OVER ($with_order)", "dense_rank() OVER ($with_order)",
		"count(*) OVER ($over)", "count(*) OVER ($with_order)",
		"round(cume_dist() OVER ($with_order)::numeric, 6)", "max($val->{sql}) OVER ($over)",
		"min($val->{sql}) OVER ($with_order)");
	push @forms, "sum($val->{sql}) OVER ($over)", "sum($val->{sql}) OVER ($with_order)"
	  if $val->{type} eq 'int' || $val->{type} eq 'num';
	return { sql => pick(@forms), aliases => { %{ $part->{aliases} }, %{ $ord->{aliases} }, %{ $val->{aliases} } },
		window => 1 };
}

# FROM: a base table and up to two joins along edges.
sub gen_from
{
	my ($self, $max_joins) = @_;
	my $base = pick(@TABLE_NAMES);
	my @from = ({ table => $base, alias => $TABLES{$base}{alias} });
	my $joins = pick(0, 0, 1, 1, 1, 2);
	$joins = $max_joins if $joins > $max_joins;
	for (1 .. $joins)
	{
		my %used = map { $_->{table} => 1 } @from;
		my @options;
		for my $t (@from)
		{
			for my $e (@EDGES)
			{
				push @options, [ $t, $e->[1] ] if $e->[0] eq $t->{table} && !$used{ $e->[1] };
				push @options, [ $t, $e->[0] ] if $e->[1] eq $t->{table} && !$used{ $e->[0] };
			}
		}
		last unless @options;
		my ($left, $new) = @{ pick(@options) };
		my $right = { table => $new, alias => $TABLES{$new}{alias} };
		$right->{join} = pick('JOIN', 'JOIN', 'JOIN', 'LEFT JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN');
		$right->{on} = edge_condition($left, $right);
		$right->{on_aliases} = { $left->{alias} => 1 };
		push @from, $right;
	}
	return \@from;
}

sub gen_select
{
	my ($self, %opt) = @_;
	my $from = $self->gen_from($opt{max_joins} // 2);
	my $q = { kind => 'select', from => $from, where => [], items => [], having => [] };

	push @{ $q->{where} }, $self->predicate($from) for 1 .. pick(0, 1, 1, 2, 2, 3);

	if ($opt{types})
	{
		# A set-operation branch: items of the given types, nothing else.
		for my $t (@{ $opt{types} })
		{
			my $e = expr_of_type($from, $t) or return undef;
			# UNION/INTERSECT/EXCEPT treat 5 and 5.00 as equal and keep either
			# spelling; one scale for every number keeps the result exact.
			$e->{sql} = "round(($e->{sql})::numeric, 2)" if type_class($e->{type}) eq 'number';
			push @{ $q->{items} }, $e;
		}
		$q->{distinct} = chance(0.2);
		return $q;
	}

	my $shape = rand();
	if ($shape < 0.4)
	{
		# Aggregation, sometimes with ROLLUP/CUBE/GROUPING SETS and HAVING.
		$q->{grouped} = 1;
		push @{ $q->{items} }, scalar_expr($from) for 1 .. pick(0, 1, 1, 1, 2, 2);
		push @{ $q->{items} }, aggregate($from) for 1 .. pick(1, 1, 2, 3);
		$q->{grouping} = pick('', '', '', '', 'ROLLUP', 'CUBE', 'GROUPING SETS') if grep { !$_->{agg} } @{ $q->{items} };
		push @{ $q->{having} }, having_predicate($from) if chance(0.3);
	}
	else
	{
		push @{ $q->{items} }, scalar_expr($from) for 1 .. pick(1, 1, 2, 2, 3, 4);
		push @{ $q->{items} }, window_item($from) if $shape > 0.8;
		push @{ $q->{items} }, $self->subquery_item($from) if chance(0.1);
		$q->{distinct} = chance(0.15);
	}
	# No ORDER BY over ROLLUP/CUBE/GROUPING SETS: Postgres 15 itself may drop
	# the sort on a grouped column that WHERE sets equal to a constant,
	# though the grouping sets add NULLs to it (plain Postgres would be the
	# one giving the wrong order).
	if (!$q->{grouping} && chance(0.35))
	{
		$q->{order} = [ map { pick('', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST') } 1 .. 12 ];
		$q->{limit} = pick(1, 5, 10, 50) if chance(0.8);
		$q->{offset} = pick(1, 3, 20) if $q->{limit} && chance(0.3);
	}
	return $q;
}

sub having_predicate
{
	my ($from) = @_;
	return { sql => "count(*) " . pick('>', '<', '=') . ' ' . pick(1, 2, 5, 20), aliases => {} } if chance(0.4);
	my $e = column_ref($from);
	return { sql => "count($e->{sql}) > " . pick(0, 1, 3), aliases => $e->{aliases} } if $e->{type} !~ /^(int|num)$/;
	return { sql => "sum($e->{sql}) " . pick('>', '<') . ' ' . $e->{const}->(), aliases => $e->{aliases} };
}

sub gen_setop
{
	my ($self) = @_;
	my $types = pick([qw(int)], [qw(text)], [qw(int text)], [qw(date)], [qw(num)], [qw(text int)]);
	my $left = $self->gen_select(types => $types, max_joins => 1);
	my $right = $self->gen_select(types => $types, max_joins => 1);
	return $self->gen_select unless $left && $right;
	my $q = { kind => 'setop', op => pick('UNION', 'UNION ALL', 'INTERSECT', 'INTERSECT ALL', 'EXCEPT', 'EXCEPT ALL'),
		left => $left, right => $right, width => scalar(@$types) };
	if (chance(0.4))
	{
		$q->{order} = [ map { pick('', ' DESC', ' NULLS FIRST') } 1 .. 4 ];
		$q->{limit} = pick(1, 5, 10) if chance(0.8);
	}
	return $q;
}

# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------

sub render
{
	my ($self, $q) = @_;
	return sprintf($q->{wrapper}, $self->render($q->{inner})) if $q->{kind} eq 'wrap';
	if ($q->{kind} eq 'setop')
	{
		my $sql = '(' . $self->render($q->{left}) . ") $q->{op} (" . $self->render($q->{right}) . ')';
		return $sql . render_order($q, $q->{width});
	}
	my @items = @{ $q->{items} };
	my $sql = 'SELECT ' . ($q->{distinct} ? 'DISTINCT ' : '') . join(', ', map { $_->{sql} } @items);
	$sql .= ' FROM ' . $q->{from}[0]{table} . ' ' . $q->{from}[0]{alias};
	for my $t (@{ $q->{from} }[ 1 .. $#{ $q->{from} } ])
	{
		$sql .= " $t->{join} $t->{table} $t->{alias} ON $t->{on}";
	}
	$sql .= ' WHERE ' . join(' AND ', map { $_->{sql} } @{ $q->{where} }) if @{ $q->{where} };
	if ($q->{grouped})
	{
		my @keys = map { $_->{sql} } grep { !$_->{agg} } @items;
		if (@keys)
		{
			my $g = $q->{grouping} // '';
			my $list = join(', ', @keys);
			$sql .= ' GROUP BY '
			  . ($g eq 'GROUPING SETS' ? "GROUPING SETS (" . join(', ', map {"($_)"} @keys) . ', ())'
				  : $g ? "$g ($list)"
				  : $list);
		}
		$sql .= ' HAVING ' . join(' AND ', map { $_->{sql} } @{ $q->{having} }) if @{ $q->{having} };
	}
	return $sql . render_order($q, scalar @items);
}

# ORDER BY every output column (by position), so the order is total.
sub render_order
{
	my ($q, $width) = @_;
	return '' unless $q->{order};
	my $sql = ' ORDER BY ' . join(', ', map { $_ . $q->{order}[ $_ - 1 ] } 1 .. $width);
	$sql .= " LIMIT $q->{limit}" if defined $q->{limit};
	$sql .= " OFFSET $q->{offset}" if defined $q->{offset};
	return $sql;
}

sub is_ordered { return $_[1]{order} ? 1 : 0 }

# ---------------------------------------------------------------------------
# Shrinking.
# ---------------------------------------------------------------------------

# Structures with one piece less than $q (each a deep copy).
sub candidates
{
	my ($self, $q) = @_;
	my @out;
	my $with = sub {
		my ($change) = @_;
		my $c = dclone($q);
		return unless $change->($c);
		push @out, $c;
	};
	if ($q->{kind} eq 'wrap')
	{
		push @out, dclone($q->{inner});
		for my $c ($self->candidates($q->{inner}))
		{
			push @out, { %$q, inner => $c };
		}
		return @out;
	}
	if ($q->{kind} eq 'setop')
	{
		push @out, dclone($q->{left}), dclone($q->{right});
		$with->(sub { delete $_[0]{order}; delete $_[0]{limit}; 1 }) if $q->{order};
		$with->(sub { delete $_[0]{limit}; 1 }) if defined $q->{limit};
		$with->(sub { $_[0]{op} =~ s/ ALL$// }) if $q->{op} =~ / ALL$/;
		for my $side (qw(left right))
		{
			for my $c ($self->candidates($q->{$side}))
			{
				my $n = dclone($q);
				$n->{$side} = $c;
				push @out, $n;
			}
		}
		return grep { $_->{kind} ne 'select' || @{ $_->{items} } } @out;
	}

	# Whole pieces first: they shrink fastest.
	for my $i (reverse 1 .. $#{ $q->{from} })
	{
		$with->(sub { remove_join($_[0], $i) });
	}
	$with->(sub { delete @{ $_[0] }{qw(order limit offset)}; 1 }) if $q->{order};
	$with->(sub { delete $_[0]{limit}; delete $_[0]{offset}; 1 }) if defined $q->{limit};
	$with->(sub { delete $_[0]{offset}; 1 }) if defined $q->{offset};
	$with->(sub { $_[0]{having} = []; 1 }) if @{ $q->{having} };
	for my $i (0 .. $#{ $q->{where} })
	{
		$with->(sub { splice(@{ $_[0]{where} }, $i, 1); 1 });
		for my $part (@{ $q->{where}[$i]{parts} || [] })
		{
			$with->(sub { $_[0]{where}[$i] = dclone($part); 1 });
		}
	}
	if (@{ $q->{items} } > 1)
	{
		for my $i (0 .. $#{ $q->{items} })
		{
			$with->(sub { splice(@{ $_[0]{items} }, $i, 1); 1 });
		}
	}
	$with->(sub { $_[0]{grouping} = ''; 1 }) if $q->{grouping};
	$with->(sub { $_[0]{distinct} = 0; 1 }) if $q->{distinct};
	for my $i (1 .. $#{ $q->{from} })
	{
		$with->(sub { $_[0]{from}[$i]{join} = 'JOIN'; 1 }) if $q->{from}[$i]{join} ne 'JOIN';
	}
	return @out;
}

# Drops join $i and everything that refers to its alias; refuses when
# another join's ON needs it or no select item would be left.
sub remove_join
{
	my ($q, $i) = @_;
	my $alias = $q->{from}[$i]{alias};
	for my $j (0 .. $#{ $q->{from} })
	{
		next if $j == $i;
		return 0 if $q->{from}[$j]{on_aliases} && $q->{from}[$j]{on_aliases}{$alias};
	}
	splice(@{ $q->{from} }, $i, 1);
	for my $list (qw(items where having))
	{
		$q->{$list} = [ grep { !$_->{aliases}{$alias} } @{ $q->{$list} } ];
	}
	return scalar @{ $q->{items} };
}

# Greedy shrinking: take the first candidate that still diverges, repeat
# until none does. $diverges->($structure) runs the query on both sides.
# The number of tries is bounded so a failing run stays quick.
sub shrink
{
	my ($self, $q, $diverges, $max_tries) = @_;
	$max_tries //= 200;
	my $best = $q;
	my $progress = 1;
	while ($progress && $max_tries > 0)
	{
		$progress = 0;
		for my $c ($self->candidates($best))
		{
			last if --$max_tries < 0;
			if ($diverges->($c))
			{
				$best = $c;
				$progress = 1;
				last;
			}
		}
	}
	return $best;
}

1;
