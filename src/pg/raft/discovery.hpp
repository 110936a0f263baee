// Joining a cluster without phantom_add_node: a node in no cluster, with
// phantomdb.auto_join on, asks the nodes of phantomdb.seeds and of the list
// phantomdb.discovery_url returns to add it (phantomdb.request_join). The
// seed adds it through the metadata log and calls phantomdb.join_cluster
// back, which hands this node's raft worker its identity.
#pragma once

namespace phantom::pg::discovery {

// One round: asks each seed in turn until one adds this node. Failures are
// logged (once per distinct message) and tried again next round. Called by
// the raft worker inside a transaction with SPI connected.
void TryAutoJoin();

}  // namespace phantom::pg::discovery
