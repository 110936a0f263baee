// The decision half of distributed deadlock detection. Each node's lock
// manager only sees waits between its own backends, so a cycle that crosses
// nodes is never detected locally. The glue gathers the lock waits of every
// node, maps each backend to the distributed transaction it works for, and
// asks this code which transactions to cancel so that no cycle is left.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace phantom::transactions {

// A distributed transaction: the coordinator node that started it and that
// node's counter.
struct TransactionId {
  uint32_t node = 0;
  uint64_t number = 0;

  friend auto operator<=>(const TransactionId&, const TransactionId&) = default;
};

// waiter waits, on some node, for a lock that holder holds there.
struct WaitEdge {
  TransactionId waiter;
  TransactionId holder;

  friend auto operator<=>(const WaitEdge&, const WaitEdge&) = default;
};

// When a transaction started, in microseconds on its coordinator's clock.
struct TransactionInfo {
  TransactionId id;
  int64_t start_us = 0;
};

// The edges present in both of two successive collections, deduplicated and
// sorted. A collection is gathered node by node, so it is not a consistent
// snapshot: a wait that ended on one node can be combined with one that began
// later on another into a cycle that never existed. A real deadlock never
// resolves by itself, so acting only on waits seen twice loses nothing.
std::vector<WaitEdge> ConfirmedEdges(const std::vector<WaitEdge>& previous, const std::vector<WaitEdge>& current);

// The transactions to cancel so that the wait-for graph of edges has no cycle,
// in the order they were chosen. The rule: while the graph has a cycle, cancel
// the youngest transaction that lies on a cycle (equivalently, the youngest
// member of any strongly connected component of more than one transaction),
// and remove it with all its edges. Removing it can only break cycles, so the
// victims come out youngest first.
//
// Youngest means the largest start_us; equal starts are broken by the larger
// TransactionId, so the result depends neither on the order of edges nor on
// that of transactions. A transaction missing from transactions has unknown
// age and counts as older than every known one, among unknown ones the larger
// TransactionId is younger; if an id is listed more than once, its largest
// start_us counts. Self-edges (two backends of one distributed transaction)
// and duplicate edges are ignored. A transaction that merely waits (for a
// chain, or for a cycle it is not part of) is never chosen.
//
// Each step recomputes components only inside the component it broke, so the
// cost is O(victims * (V + E)) at worst and no cycle is ever enumerated.
std::vector<TransactionId> ChooseDeadlockVictims(const std::vector<WaitEdge>& edges,
                                                 const std::vector<TransactionInfo>& transactions);

}  // namespace phantom::transactions

template <>
struct std::hash<phantom::transactions::TransactionId> {
  size_t operator()(const phantom::transactions::TransactionId& id) const noexcept {
    return std::hash<uint64_t>{}(id.number) ^
           static_cast<size_t>(std::hash<uint32_t>{}(id.node) * uint64_t{0x9e3779b97f4a7c15});
  }
};
