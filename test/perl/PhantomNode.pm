# A PhantomDB node for the TAP tests: a PostgreSQL::Test::Cluster server on
# 127.0.0.1, registered under its own name, with the extension preloaded
# (unless no_preload) and, when given, a phantomdb.node_timeout_ms.
package PhantomNode;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(new_node);

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
	$node->append_conf('postgresql.conf', "phantomdb.node_timeout_ms = $opts{timeout_ms}")
	  if $opts{timeout_ms};
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'phantomdb'")
	  unless $opts{no_preload};
	$node->start;
	return $node;
}

1;
