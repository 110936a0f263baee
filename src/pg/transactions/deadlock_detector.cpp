// Distributed deadlock detection; see deadlock_detector.hpp.
#include "pg/transactions/deadlock_detector.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/transactions/deadlock.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/settings.hpp"
#include "pg/transactions/backend_transactions.hpp"
#include "pg/transactions/lock_waits.hpp"

extern "C" {
#include "utils/memutils.h"
}

namespace phantom::pg::deadlock_detector {

namespace {

using transactions::TransactionId;
using transactions::WaitEdge;

// The edges of the previous pass, per reporting node; worker memory only.
std::map<metadata::NodeId, std::vector<WaitEdge>> previous_edges;

std::string Name(const TransactionId& id) {
  if (lock_waits::IsLocalVertex(id))
    return "local transaction of pid " + std::to_string(id.number >> 32) + " on node " +
           std::to_string(id.node & ~lock_waits::kLocalBit);
  return std::to_string(id.node) + ":" + std::to_string(id.number);
}

// The members of victim's cycle(s): reachable from it and reaching it.
std::vector<TransactionId> CycleOf(const std::vector<WaitEdge>& edges, const TransactionId& victim) {
  auto reach = [&](bool forward) {
    std::set<TransactionId> seen{victim};
    std::vector<TransactionId> frontier{victim};
    while (!frontier.empty()) {
      const TransactionId at = frontier.back();
      frontier.pop_back();
      for (const WaitEdge& edge : edges) {
        const TransactionId& from = forward ? edge.waiter : edge.holder;
        const TransactionId& to = forward ? edge.holder : edge.waiter;
        if (from == at && seen.insert(to).second) frontier.push_back(to);
      }
    }
    return seen;
  };
  const std::set<TransactionId> ahead = reach(true);
  const std::set<TransactionId> behind = reach(false);
  std::vector<TransactionId> members;
  std::set_intersection(ahead.begin(), ahead.end(), behind.begin(), behind.end(), std::back_inserter(members));
  return members;
}

// --- the victim's error -----------------------------------------------------

emit_log_hook_type previous_emit_log_hook = nullptr;

constexpr const char kVictimMessage[] = "canceling the transaction since it was involved in a distributed deadlock";

// A copy in ErrorContext, which elog.c resets with the error; nullptr when
// even that fails (the hook must not raise an error of its own).
char* ErrorText(const char* text) noexcept {
  const size_t size = std::strlen(text) + 1;
  auto* copy = static_cast<char*>(MemoryContextAllocExtended(ErrorContext, size, MCXT_ALLOC_NO_OOM));
  if (copy != nullptr) std::memcpy(copy, text, size);
  return copy;
}

// The cancel CancelAsDeadlockVictim sent reaches the victim as Postgres's
// query-cancel ERROR (57014), raised wherever the backend waited: on its own
// lock, or for another node's answer. EmitErrorReport calls this hook before
// it writes the server log and the client message, both from edata, so the
// user sees the rewording. (elog.c calls it only when the error goes to the
// server log too, which ERROR does unless log_min_messages is above ERROR.)
void RewordVictimError(ErrorData* edata) noexcept {
  if (edata->elevel >= ERROR && edata->sqlerrcode == ERRCODE_QUERY_CANCELED) {
    const std::optional<backend_transactions::DistributedId> id = backend_transactions::DeadlockVictimId();
    if (id) {
      char* message = ErrorText(kVictimMessage);
      char detail[200];
      snprintf(detail, sizeof(detail),
               "Distributed transaction %u:%llu was the youngest in a cycle of lock waits that spans nodes.", id->node,
               static_cast<unsigned long long>(id->number));
      edata->sqlerrcode = ERRCODE_T_R_DEADLOCK_DETECTED;
      edata->message = message != nullptr ? message : const_cast<char*>(kVictimMessage);
      edata->message_id = kVictimMessage;
      char* detail_copy = ErrorText(detail);
      if (detail_copy != nullptr) edata->detail = detail_copy;
      edata->hint = ErrorText("Retry the transaction.");
    }
  }
  if (previous_emit_log_hook != nullptr) previous_emit_log_hook(edata);
}

}  // namespace

int RunPass() {
  const int interval_ms = deadlock_detection_interval_ms;
  if (interval_ms <= 0) {
    previous_edges.clear();
    return 1000;
  }
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  if (local == 0) {
    // A member: the administering node looks after the whole cluster.
    previous_edges.clear();
    return interval_ms;
  }

  std::vector<std::string> unreachable;
  const std::vector<lock_waits::NodeWaits> reported = lock_waits::Cluster(local, &unreachable);
  for (const std::string& problem : unreachable)
    Report(DEBUG1, ("phantomdb deadlock detection: no lock waits from node " + problem).c_str());

  std::map<metadata::NodeId, std::vector<WaitEdge>> current;
  std::map<TransactionId, int64_t> starts;
  for (const lock_waits::NodeWaits& node : reported) {
    std::vector<WaitEdge>& edges = current[node.node];
    for (const lock_waits::Wait& wait : node.waits) {
      edges.push_back({lock_waits::VertexOf(wait.waiting, node.node), lock_waits::VertexOf(wait.blocking, node.node)});
      // Only distributed transactions get an age. A plain local one counts
      // as older than all of them (deadlock.hpp), so a distributed member
      // of its cycle is cancelled instead: that one has a coordinator here
      // to cancel it and a backend slot that words its error.
      for (const lock_waits::Side* side : {&wait.waiting, &wait.blocking})
        if (side->distributed && side->start_us != 0) {
          int64_t& start = starts[{side->node, side->number}];
          start = std::max(start, side->start_us);
        }
    }
  }
  std::vector<transactions::TransactionInfo> infos;
  for (const auto& [id, start_us] : starts) infos.push_back({id, start_us});

  std::vector<WaitEdge> confirmed;
  for (const auto& [node, edges] : current) {
    auto before = previous_edges.find(node);
    if (before == previous_edges.end()) continue;
    const std::vector<WaitEdge> seen_twice = transactions::ConfirmedEdges(before->second, edges);
    // A cycle among one node's waits alone is a local deadlock, which that
    // node's Postgres breaks after deadlock_timeout; cancelling a member too
    // would make two victims. The node's waits come back next pass.
    if (!transactions::ChooseDeadlockVictims(seen_twice, infos).empty()) continue;
    confirmed.insert(confirmed.end(), seen_twice.begin(), seen_twice.end());
  }
  previous_edges = std::move(current);

  bool cancelled = false;
  for (const TransactionId& victim : transactions::ChooseDeadlockVictims(confirmed, infos)) {
    std::string cycle;
    for (const TransactionId& member : CycleOf(confirmed, victim)) cycle += (cycle.empty() ? "" : ", ") + Name(member);
    const std::string detail = "Transactions on the cycle: " + cycle + ".";
    if (lock_waits::IsLocalVertex(victim) || victim.node != static_cast<uint32_t>(local)) {
      // Only a cycle of one node's local transactions has such a youngest
      // member (and is skipped above), or one coordinated by another node.
      Report(LOG,
             ("phantomdb: distributed deadlock found, but its youngest transaction " + Name(victim) +
              " is not coordinated by this node")
                 .c_str(),
             detail.c_str());
      continue;
    }
    if (backend_transactions::CancelAsDeadlockVictim({victim.node, victim.number, 0})) {
      cancelled = true;
      Report(
          LOG,
          ("phantomdb: cancelled distributed transaction " + Name(victim) + " to break a distributed deadlock").c_str(),
          detail.c_str());
    }
  }
  // The victims' waits take a moment to go away; judge the next pass on
  // fresh confirmations only, so a cancelled cycle is never counted twice.
  if (cancelled) previous_edges.clear();
  return interval_ms;
}

void InstallVictimErrorHook() {
  previous_emit_log_hook = emit_log_hook;
  emit_log_hook = RewordVictimError;
}

}  // namespace phantom::pg::deadlock_detector
