// phantomdb.* configuration parameters (GUCs).
#pragma once

namespace phantom::pg {

// Extra libpq options for node-to-node connections (e.g. sslmode=verify-full).
extern char* node_conninfo;
// Set (at connection start) on the connections nodes open to each other:
// DDL there applies to this node only, the sending node propagates it.
extern bool node_session;
// On those connections: the metadata log index the sending node routed by.
extern int metadata_index;
// How long a node may take to accept a connection or answer an admin call.
extern int node_timeout_ms;
// The host other nodes use to reach this one; empty: derived (see local_node.cpp).
extern char* advertise_host;
// This node's name when it registers itself; empty: "host:port".
extern char* node_name;

// Shards of a distributed table when phantom_create_distributed_table is not told.
extern int default_shard_count;
// phantomdb.max_connections_per_node: parallel read connections per node.
extern int max_connections_per_node;

// How often the maintenance worker resolves in-doubt prepared transactions.
extern int prepared_recovery_interval_ms;
// How often it looks for distributed deadlocks (0: never).
extern int deadlock_detection_interval_ms;

// Saga retries (docs/sagas.md): attempts per action, and the backoff
// before the first retry, doubling up to the cap.
extern int saga_max_attempts;
extern int saga_retry_base_ms;
extern int saga_retry_max_ms;

// The metadata Raft group (docs/raft.md): timing, how many voters, and how
// long the log grows before a snapshot replaces it.
extern int raft_election_timeout_ms;
extern int heartbeat_interval_ms;
extern int raft_voters;
extern int raft_snapshot_entries;

// Discovery (docs/operations.md): where a node in no cluster asks to join.
extern char* seeds;
extern bool auto_join;
extern char* discovery_url;

void DefineSettings();

}  // namespace phantom::pg
