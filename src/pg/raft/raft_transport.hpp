// Carries Raft messages between nodes over libpq, on the normal Postgres
// port: each batch for a peer becomes one call of phantomdb.raft_deliver on
// it, which drops the batch into that node's raft inbox (raft_shared.hpp).
//
// Never blocks the raft worker's loop: connections are made and driven
// without waiting (the loop waits on their sockets with its latch), calls
// are pipelined (up to kMaxInFlight batches per peer before an answer), and
// while a peer's pipeline is full its messages pile up and leave as one
// batch. A peer that cannot be reached loses what was queued for it: Raft
// resends, and a lost snapshot is reported so the leader tries again.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/raft/raft.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "libpq-fe.h"
#include "storage/latch.h"
}

namespace phantom::pg {

class RaftTransport {
 public:
  // user and database: what the connections log in as (the worker's own).
  RaftTransport(std::string cluster_id, std::string user, std::string database);
  ~RaftTransport();
  RaftTransport(const RaftTransport&) = delete;
  RaftTransport& operator=(const RaftTransport&) = delete;

  // Where a node listens; a changed address drops the old connection. Nodes
  // not in `addresses` are forgotten.
  void SetAddresses(const std::map<raft::NodeId, std::pair<std::string, int32_t>>& addresses);
  // Queues messages for their recipients (unknown recipients: dropped).
  void Send(std::vector<raft::Message>&& messages, raft::Raft& raft);
  // Makes progress on every connection without waiting: connects, sends
  // queued batches, reads answers. Reports snapshot delivery to raft.
  void Pump(raft::Raft& raft, int64_t now_us);
  // The sockets the loop should wait on, with their events.
  void AddSockets(WaitEventSet* set) const;
  int SocketCount() const;

 private:
  static constexpr size_t kMaxInFlight = 8;
  static constexpr size_t kMaxQueued = 10000;

  struct InFlight {
    bool failed = false;
    bool has_snapshot = false;
  };
  struct Peer {
    std::string host;
    int32_t port = 0;
    PGconn* conn = nullptr;
    bool connecting = false;
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    bool want_write = false;
    std::vector<raft::Message> queue;
    std::deque<InFlight> in_flight;
    int64_t retry_at_us = 0;
    int64_t backoff_us = 0;
    std::string last_error;  // logged once per distinct failure
  };

  void Connect(Peer& peer);
  void Disconnect(raft::NodeId id, Peer& peer, raft::Raft& raft, int64_t now_us, const std::string& why);
  void Drive(raft::NodeId id, Peer& peer, raft::Raft& raft, int64_t now_us);
  bool SendBatch(Peer& peer);
  bool ReadAnswers(raft::NodeId id, Peer& peer, raft::Raft& raft);

  std::string cluster_id_;
  std::string user_;
  std::string database_;
  std::map<raft::NodeId, Peer> peers_;
};

}  // namespace phantom::pg
