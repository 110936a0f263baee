// Raft messages over libpq; see raft_transport.hpp.
#include "pg/raft/raft_transport.hpp"

#include <algorithm>

#include "core/raft/message_codec.hpp"
#include "pg/remote/node_connection.hpp"

namespace phantom::pg {

namespace {

constexpr int64_t kFirstBackoffUs = 100'000;
constexpr int64_t kMaxBackoffUs = 1'000'000;
constexpr const char* kDeliverSql = "SELECT phantomdb.raft_deliver($1::text, $2::bytea)";

bool IsSnapshot(const raft::Message& message) { return message.type == raft::MessageType::kSnapshot; }

std::string FirstLine(const char* text) {
  std::string line = text ? text : "";
  const size_t end = line.find('\n');
  if (end != std::string::npos) line.resize(end);
  return line;
}

}  // namespace

RaftTransport::RaftTransport(std::string cluster_id, std::string user, std::string database)
    : cluster_id_(std::move(cluster_id)), user_(std::move(user)), database_(std::move(database)) {}

RaftTransport::~RaftTransport() {
  for (auto& [id, peer] : peers_)
    if (peer.conn != nullptr) PQfinish(peer.conn);
}

void RaftTransport::SetAddresses(const std::map<raft::NodeId, std::pair<std::string, int32_t>>& addresses) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto address = addresses.find(it->first);
    if (address == addresses.end() || address->second.first != it->second.host ||
        address->second.second != it->second.port) {
      if (it->second.conn != nullptr) PQfinish(it->second.conn);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, address] : addresses) {
    if (peers_.count(id)) continue;
    Peer& peer = peers_[id];
    peer.host = address.first;
    peer.port = address.second;
  }
}

void RaftTransport::Send(std::vector<raft::Message>&& messages, raft::Raft& raft) {
  for (raft::Message& message : messages) {
    auto it = peers_.find(message.to);
    if (it == peers_.end()) {
      if (IsSnapshot(message)) raft.ReportSnapshot(message.to, false);
      continue;
    }
    Peer& peer = it->second;
    if (peer.queue.size() >= kMaxQueued) {
      // A peer that has not taken anything for this long is behind a dead
      // connection: what it missed is resent by Raft when it answers again.
      for (const raft::Message& dropped : peer.queue)
        if (IsSnapshot(dropped)) raft.ReportSnapshot(message.to, false);
      peer.queue.clear();
    }
    peer.queue.push_back(std::move(message));
  }
}

void RaftTransport::Connect(Peer& peer) {
  peer.conn = StartNodeConnection(peer.host, peer.port, user_.c_str(), database_.c_str(), "", "phantomdb raft");
  peer.connecting = true;
  peer.poll = PQstatus(peer.conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
}

void RaftTransport::Disconnect(raft::NodeId id, Peer& peer, raft::Raft& raft, int64_t now_us, const std::string& why) {
  if (why != peer.last_error) {
    ereport(LOG, (errmsg("phantomdb raft: lost contact with node %llu at %s:%d: %s",
                         static_cast<unsigned long long>(id), peer.host.c_str(), peer.port, why.c_str())));
    peer.last_error = why;
  }
  if (peer.conn != nullptr) PQfinish(peer.conn);
  peer.conn = nullptr;
  peer.connecting = false;
  peer.want_write = false;
  for (const InFlight& batch : peer.in_flight)
    if (batch.has_snapshot) raft.ReportSnapshot(id, false);
  peer.in_flight.clear();
  for (const raft::Message& message : peer.queue)
    if (IsSnapshot(message)) raft.ReportSnapshot(id, false);
  peer.queue.clear();
  peer.backoff_us = std::min(kMaxBackoffUs, std::max(kFirstBackoffUs, peer.backoff_us * 2));
  peer.retry_at_us = now_us + peer.backoff_us;
}

bool RaftTransport::SendBatch(Peer& peer) {
  InFlight batch;
  for (const raft::Message& message : peer.queue) batch.has_snapshot = batch.has_snapshot || IsSnapshot(message);
  const std::string bytes = raft::EncodeMessages(peer.queue);
  peer.queue.clear();
  const char* values[] = {cluster_id_.c_str(), bytes.data()};
  const int lengths[] = {0, static_cast<int>(bytes.size())};
  const int formats[] = {0, 1};
  if (!PQsendQueryParams(peer.conn, kDeliverSql, 2, nullptr, values, lengths, formats, 0)) return false;
  if (!PQpipelineSync(peer.conn)) return false;
  peer.in_flight.push_back(batch);
  return true;
}

bool RaftTransport::ReadAnswers(raft::NodeId id, Peer& peer, raft::Raft& raft) {
  if (!PQconsumeInput(peer.conn)) return false;
  int nulls = 0;
  while (!peer.in_flight.empty() && !PQisBusy(peer.conn)) {
    PGresult* result = PQgetResult(peer.conn);
    if (result == nullptr) {
      // Between one call's results and the next; two in a row: nothing more yet.
      if (++nulls > 1) break;
      continue;
    }
    nulls = 0;
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      const InFlight batch = peer.in_flight.front();
      peer.in_flight.pop_front();
      if (batch.has_snapshot) raft.ReportSnapshot(id, !batch.failed);
    } else if (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED) {
      peer.in_flight.front().failed = true;
      const std::string why = FirstLine(PQresultErrorMessage(result));
      if (!why.empty() && why != peer.last_error) {
        ereport(LOG, (errmsg("phantomdb raft: node %llu refused a message batch: %s",
                             static_cast<unsigned long long>(id), why.c_str())));
        peer.last_error = why;
      }
    } else {
      peer.last_error.clear();
    }
    PQclear(result);
  }
  return true;
}

void RaftTransport::Drive(raft::NodeId id, Peer& peer, raft::Raft& raft, int64_t now_us) {
  if (peer.conn == nullptr) {
    if (peer.queue.empty() || now_us < peer.retry_at_us) return;
    Connect(peer);
  }
  if (peer.connecting) {
    if (peer.poll != PGRES_POLLING_FAILED) peer.poll = PQconnectPoll(peer.conn);
    if (peer.poll == PGRES_POLLING_FAILED) {
      Disconnect(id, peer, raft, now_us, FirstLine(PQerrorMessage(peer.conn)));
      return;
    }
    if (peer.poll != PGRES_POLLING_OK) return;
    peer.connecting = false;
    PQsetNoticeProcessor(
        peer.conn, [](void*, const char*) {}, nullptr);
    if (PQsetnonblocking(peer.conn, 1) != 0 || PQenterPipelineMode(peer.conn) != 1) {
      Disconnect(id, peer, raft, now_us, FirstLine(PQerrorMessage(peer.conn)));
      return;
    }
    peer.backoff_us = 0;
  }
  if (!ReadAnswers(id, peer, raft)) {
    Disconnect(id, peer, raft, now_us, FirstLine(PQerrorMessage(peer.conn)));
    return;
  }
  if (!peer.queue.empty() && peer.in_flight.size() < kMaxInFlight && !SendBatch(peer)) {
    Disconnect(id, peer, raft, now_us, FirstLine(PQerrorMessage(peer.conn)));
    return;
  }
  const int flushed = PQflush(peer.conn);
  if (flushed < 0) {
    Disconnect(id, peer, raft, now_us, FirstLine(PQerrorMessage(peer.conn)));
    return;
  }
  peer.want_write = flushed == 1;
}

void RaftTransport::Pump(raft::Raft& raft, int64_t now_us) {
  for (auto& [id, peer] : peers_) Drive(id, peer, raft, now_us);
}

int RaftTransport::SocketCount() const {
  int count = 0;
  for (const auto& [id, peer] : peers_)
    if (peer.conn != nullptr && PQsocket(peer.conn) >= 0) count++;
  return count;
}

void RaftTransport::AddSockets(WaitEventSet* set) const {
  for (const auto& [id, peer] : peers_) {
    if (peer.conn == nullptr || PQsocket(peer.conn) < 0) continue;
    int events = WL_SOCKET_READABLE;
    if (peer.connecting)
      events = peer.poll == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
    else if (peer.want_write)
      events |= WL_SOCKET_WRITEABLE;
    AddWaitEventToSet(set, events, PQsocket(peer.conn), nullptr, nullptr);
  }
}

}  // namespace phantom::pg
