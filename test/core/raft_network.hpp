// A deterministic in-process network of Raft nodes for the raft_*_test suites:
// each node has its own MemoryStorage, Ready is persisted before its messages
// are queued, and links can be cut or messages rewritten.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/raft/message_codec.hpp"
#include "core/raft/raft.hpp"
#include "core/raft/storage.hpp"

namespace phantom::raft::testing {

struct TestNode {
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<Raft> raft;
  Config config;
  std::vector<std::string> applied;  // data of applied normal, non-empty entries
  std::vector<ReadState> reads;
  std::map<Index, Entry> applied_log;  // every applied entry by index, for safety checks
  std::string snapshot_data;
};

class Network {
 public:
  // Options applied to every node added afterwards.
  bool pre_vote = false;
  bool check_quorum = false;
  size_t max_inflight = 256;
  uint64_t max_bytes = 1u << 20;
  // Returns false to drop a message; may rewrite it.
  std::function<bool(Message&)> filter;
  // When set, picks which queued message goes next (reordering) given the
  // queue length, and whether a delivered message is also queued again.
  std::function<size_t(size_t)> pick;
  std::function<bool()> duplicate;

  Raft& Add(NodeId id, const ConfState& conf, std::vector<Entry> log = {}, HardState hard_state = {}) {
    TestNode& node = nodes_[id];
    node.storage->SetConfState(conf);
    node.storage->Append(log);
    node.storage->SetHardState(hard_state);
    node.config.id = id;
    node.config.storage = node.storage.get();
    node.config.pre_vote = pre_vote;
    node.config.check_quorum = check_quorum;
    node.config.max_inflight_messages = max_inflight;
    node.config.max_bytes_per_message = max_bytes;
    node.config.seed = 42;
    node.raft = std::make_unique<Raft>(node.config);
    return *node.raft;
  }

  // Rebuilds the Raft of a node from what its storage holds.
  Raft& Restart(NodeId id) {
    TestNode& node = nodes_.at(id);
    node.raft = std::make_unique<Raft>(node.config);
    return *node.raft;
  }

  Raft& At(NodeId id) { return *nodes_.at(id).raft; }
  TestNode& Node(NodeId id) { return nodes_.at(id); }

  void Isolate(NodeId id) {
    for (const auto& [other, node] : nodes_) {
      if (other == id) continue;
      cut_.insert({id, other});
      cut_.insert({other, id});
    }
  }
  void Cut(NodeId from, NodeId to) { cut_.insert({from, to}); }
  void Heal() { cut_.clear(); }

  void Persist(NodeId id) {
    TestNode& node = nodes_.at(id);
    while (node.raft->HasReady()) {
      Ready ready = node.raft->GetReady();
      if (ready.hard_state) node.storage->SetHardState(*ready.hard_state);
      if (!ready.snapshot.Empty()) {
        node.storage->ApplySnapshot(ready.snapshot);
        node.snapshot_data = ready.snapshot.data;
      }
      node.storage->Append(ready.entries);
      for (Message& m : ready.messages) queue_.push_back(std::move(m));
      for (const Entry& entry : ready.committed_entries) {
        const auto [it, fresh] = node.applied_log.emplace(entry.index, entry);
        if (!fresh) {
          EXPECT_EQ(it->second, entry) << "node " << id << " re-applied a different entry";
        }
        if (entry.type == EntryType::kConfChange) {
          const ConfState conf = node.raft->ApplyConfChange(DecodeConfChange(entry.data.view()));
          node.storage->SetConfState(conf);
        } else if (!entry.data.empty()) {
          node.applied.push_back(entry.data.str());
        }
      }
      for (ReadState& read : ready.read_states) node.reads.push_back(std::move(read));
      node.raft->Advance();
    }
  }

  // Delivers until quiet.
  void Deliver() {
    for (int steps = 0; steps < 100000; ++steps) {
      for (const auto& [id, node] : nodes_) Persist(id);
      if (queue_.empty()) return;
      const size_t at = pick ? pick(queue_.size()) % queue_.size() : 0;
      Message m = std::move(queue_[at]);
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(at));
      if (duplicate && duplicate()) queue_.push_back(m);
      const bool is_snapshot = m.type == MessageType::kSnapshot;
      const bool delivered = cut_.count({m.from, m.to}) == 0 && nodes_.count(m.to) > 0 && (!filter || filter(m));
      if (delivered) nodes_.at(m.to).raft->Step(m);
      // Like a real transport, tell the leader what became of a snapshot.
      if (is_snapshot && nodes_.count(m.from) > 0) nodes_.at(m.from).raft->ReportSnapshot(m.to, delivered);
    }
    ADD_FAILURE() << "network did not quiesce";
  }

  void Tick(NodeId id, int times = 1) {
    for (int k = 0; k < times; ++k) {
      At(id).Tick();
      Deliver();
    }
  }

  void TickAll(int times = 1) {
    for (int k = 0; k < times; ++k) {
      for (const auto& [id, node] : nodes_) node.raft->Tick();
      Deliver();
    }
  }

  void Elect(NodeId id) {
    At(id).Campaign();
    Deliver();
  }

  NodeId LeaderOf(NodeId id) { return At(id).Status().leader; }
  std::vector<NodeId> Ids() const {
    std::vector<NodeId> ids;
    for (const auto& [id, node] : nodes_) ids.push_back(id);
    return ids;
  }

 private:
  std::map<NodeId, TestNode> nodes_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::deque<Message> queue_;
};

inline ConfState Voters(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  return ConfState{std::move(voters), std::move(learners)};
}

inline Entry E(Index index, Term term, std::string data = {}) {
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

}  // namespace phantom::raft::testing
