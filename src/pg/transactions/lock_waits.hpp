// The lock waits of a node, with each backend mapped to the distributed
// transaction it works for: what distributed deadlock detection
// (deadlock_detector.hpp) and phantomdb.isolation_test_session_is_blocked
// build the cluster-wide wait-for graph from.
//
// A node reports its waits through phantomdb.lock_waits(); this file reads
// them on this node directly and on the others over autocommit connections
// of this backend, kept across calls (the detector asks once a second).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "core/transactions/deadlock.hpp"

namespace phantom::pg::lock_waits {

// One side of a wait. A backend working for a distributed transaction is
// named by its id (distributed = true); any other backend by its pid and
// local transaction number (PGPROC lxid), which change for every local
// transaction, so a new transaction of the same session is a new vertex.
struct Side {
  bool distributed = false;
  uint32_t node = 0;    // distributed: the coordinator node
  uint64_t number = 0;  // distributed: the coordinator's counter
  int pid = 0;
  uint32_t local_xact = 0;
  int64_t start_us = 0;  // transaction start (Unix microseconds); 0 unknown
};

// waiting waits for a heavyweight lock that blocking holds, or is queued
// behind blocking for it (pg_blocking_pids).
struct Wait {
  Side waiting;
  Side blocking;
};

// This node's waits; call inside a transaction (uses SPI).
std::vector<Wait> Local();

// The waits one node reported.
struct NodeWaits {
  metadata::NodeId node = 0;
  std::vector<Wait> waits;
};

// The waits of every node of the cluster this node administers: this one
// first, then the others of phantomdb.nodes. A node that cannot be asked
// contributes nothing; its error is appended to unreachable.
std::vector<NodeWaits> Cluster(metadata::NodeId local, std::vector<std::string>* unreachable);

// The vertex of the wait-for graph for a side reported by node `reporter`.
// Distributed transactions keep their id. A plain local transaction gets
// the synthetic id {node = kLocalBit | reporter, number = pid << 32 |
// local_xact}: node ids are positive int32, so kLocalBit never collides with
// a real coordinator, and pid plus lxid name one local transaction of that
// node for as long as it runs. Plain local transactions can sit inside a
// cross-node cycle (T1 waits on node 2 for T2, T2 on node 1 for a local
// session L, L on node 1 for T1), so they must be vertices too.
inline constexpr uint32_t kLocalBit = 0x80000000u;
transactions::TransactionId VertexOf(const Side& side, metadata::NodeId reporter);
inline bool IsLocalVertex(const transactions::TransactionId& id) { return (id.node & kLocalBit) != 0; }

}  // namespace phantom::pg::lock_waits
