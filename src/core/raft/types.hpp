// The values Raft exchanges and persists: entries, hard state, membership,
// snapshots and messages. Plain data; behaviour lives in raft.hpp and the
// wire form in message_codec.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/raft/payload.hpp"

namespace phantom::raft {

using NodeId = uint64_t;  // 0 means "none"
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // data is an application command (or empty: a leader's no-op)
  kConfChange = 1,  // data is an encoded ConfChange
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  Payload data;  // shared, so copying an Entry copies no bytes

  bool operator==(const Entry&) const = default;
};

// What must reach stable storage before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
};

// The membership of the group. One change at a time (see raft.hpp), so there
// is no joint configuration.
struct ConfState {
  std::vector<NodeId> voters;    // sorted, unique
  std::vector<NodeId> learners;  // sorted, unique, disjoint from voters

  bool operator==(const ConfState&) const = default;
};

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,    // also promotes a learner
  kAddLearner = 1,  // also demotes a voter
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node = kNoNode;

  bool operator==(const ConfChange&) const = default;
};

struct SnapshotMeta {
  Index index = 0;  // the last entry the snapshot covers
  Term term = 0;    // that entry's term
  ConfState conf;   // the membership as of index

  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // the application state machine, opaque to Raft

  bool Empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

enum class MessageType : uint8_t {
  kPreVote = 0,
  kPreVoteResponse = 1,
  kVote = 2,
  kVoteResponse = 3,
  kAppend = 4,  // entries (possibly none) after (log_term, index), and the commit index
  kAppendResponse = 5,
  kHeartbeat = 6,
  kHeartbeatResponse = 7,
  kSnapshot = 8,
  kTimeoutNow = 9,  // leader transfer: campaign now, skipping pre-vote
  kReadIndex = 10,  // a follower forwards a read request to the leader
  kReadIndexResponse = 11,
  kTransferLeader = 12,  // a follower forwards a transfer request to the leader
  kPropose = 13,         // a follower forwards proposals to the leader
};

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;  // kAppend: term of `index`; votes: candidate's last term
  Index index = 0;    // kAppend: entries follow this index; votes: candidate's last index; responses: see raft.cpp
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;  // kAppendResponse with reject: the follower's best guess to retry from
  Term hint_term = 0;     // ... and the term at reject_hint, for skipping a whole term at a time
  Snapshot snapshot;      // kSnapshot
  std::string context;    // reads and heartbeats: the read request's id; votes: "transfer" for a leader transfer

  bool operator==(const Message&) const = default;
};

}  // namespace phantom::raft
