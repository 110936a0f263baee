// Recovery of prepared transactions; see prepared_recovery.hpp.
#include "pg/transactions/prepared_recovery.hpp"

#include <map>
#include <memory>
#include <set>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/transactions/global_transaction_id.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "storage/procarray.h"
}

namespace phantom::pg::prepared_recovery {

namespace {

struct Node {
  metadata::NodeId node_id;
  std::string host;
  int32_t port;
  std::string address;
};

// Autocommit connections of this backend for recovery only: COMMIT PREPARED
// cannot run inside the remote transaction a user's block may hold on the
// pooled connection. Kept across passes (the worker runs one per second).
std::map<metadata::NodeId, std::unique_ptr<NodeConnection>> connections;

NodeConnection& ConnectionTo(const Node& node) {
  auto& slot = connections[node.node_id];
  if (slot && (slot->Broken() || slot->TransactionStatus() != PQTRANS_IDLE)) slot.reset();
  if (!slot) slot = std::make_unique<NodeConnection>(NodeConnection::Open(node.host, node.port));
  return *slot;
}

std::vector<Node> OtherNodes(metadata::NodeId local) {
  std::vector<Node> nodes;
  spi::WithSpi([&] {
    spi::Execute("SELECT node_id, host, port FROM phantomdb.nodes WHERE node_id <> $1 ORDER BY node_id",
                 {spi::Int32(local)});
    for (uint64_t row = 0; row < spi::RowCount(); row++) {
      Node node{spi::GetInt32(row, 0), spi::GetText(row, 1), spi::GetInt32(row, 2), ""};
      node.address = metadata::NodeAddress(node.host, node.port);
      nodes.push_back(node);
    }
  });
  return nodes;
}

bool StillRunning(uint64_t full_xid) {
  const TransactionId xid = XidFromFullTransactionId(FullTransactionIdFromU64(full_xid));
  return PgCall([&] { return TransactionIdIsInProgress(xid); });
}

std::string XidArray(const std::set<uint64_t>& xids) {
  std::string array = "{";
  for (uint64_t xid : xids) array += (array.size() > 1 ? "," : "") + std::to_string(xid);
  return array + "}";
}

// Which of xids have a commit record, read with a fresh snapshot.
std::set<uint64_t> WithCommitRecord(const std::set<uint64_t>& xids) {
  std::set<uint64_t> found;
  if (xids.empty()) return found;
  spi::WithSpi([&] {
    spi::Execute(
        "SELECT transaction_id::text FROM phantomdb.transaction_commits "
        "WHERE transaction_id = ANY ($1::pg_catalog.xid8[])",
        {spi::Text(XidArray(xids))});
    for (uint64_t row = 0; row < spi::RowCount(); row++) found.insert(std::stoull(spi::GetText(row, 0)));
  });
  return found;
}

struct Record {
  uint64_t full_xid;
  std::vector<metadata::NodeId> participants;
};

std::vector<Record> CommitRecords() {
  std::vector<Record> records;
  spi::WithSpi([&] {
    spi::Execute(
        "SELECT transaction_id::text, pg_catalog.array_to_string(participants, ',') "
        "FROM phantomdb.transaction_commits");
    for (uint64_t row = 0; row < spi::RowCount(); row++) {
      Record record{std::stoull(spi::GetText(row, 0)), {}};
      const std::string list = spi::GetText(row, 1);
      size_t start = 0;
      while (start < list.size()) {
        size_t end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        record.participants.push_back(std::stoi(list.substr(start, end - start)));
        start = end + 1;
      }
      records.push_back(std::move(record));
    }
  });
  return records;
}

bool TakeLock(bool wait) {
  // One recovery at a time per database: two would race to resolve the same
  // GIDs and each report the other's work as failures.
  bool taken = false;
  spi::WithSpi([&] {
    spi::Execute(wait ? "SELECT pg_catalog.pg_advisory_xact_lock(7061626, 1), true"
                      : "SELECT pg_catalog.pg_try_advisory_xact_lock(7061626, 1)");
    taken = spi::GetBool(0, wait ? 1 : 0);
  });
  return taken;
}

}  // namespace

std::vector<InDoubt> ListPrepared(std::vector<std::string>* unreachable) {
  std::vector<InDoubt> result;
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  if (local == 0) return result;
  for (const Node& node : OtherNodes(local)) {
    try {
      const auto rows = ConnectionTo(node).Query(
          "SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database = pg_catalog.current_database() "
          "AND gid LIKE $1 ORDER BY gid",
          {transactions::GidPattern(static_cast<uint32_t>(local))});
      for (const auto& row : rows) result.push_back({node.node_id, node.address, row[0].value_or("")});
    } catch (const Error& error) {
      connections.erase(node.node_id);
      if (unreachable != nullptr) unreachable->push_back(node.address + ": " + error.Message());
    }
  }
  return result;
}

Outcome Recover(bool wait_for_lock) {
  Outcome outcome;
  if (PgCall([] { return IsolationUsesXactSnapshot(); }))
    throw Error(sqlstate::kFeatureNotSupported, "recovering prepared transactions needs READ COMMITTED isolation", "",
                "Run phantom_recover_prepared_transactions() outside a REPEATABLE READ or SERIALIZABLE transaction.");
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  if (local == 0 || !TakeLock(wait_for_lock)) return outcome;

  // Records read before the nodes are asked: each of these transactions
  // had prepared everywhere before its record became visible, so a GID
  // missing from a node's list below has been committed there.
  const std::vector<Record> records = CommitRecords();
  std::vector<std::string> unreachable;
  const std::vector<InDoubt> in_doubt = ListPrepared(&unreachable);
  outcome.problems = unreachable;
  std::set<metadata::NodeId> unasked;
  for (const Node& node : OtherNodes(local)) {
    for (const std::string& problem : unreachable)
      if (problem.rfind(node.address + ": ", 0) == 0) unasked.insert(node.node_id);
  }

  // Running first, records second (transactions::Resolve explains why).
  std::map<uint64_t, bool> running;
  for (const InDoubt& item : in_doubt) {
    const auto gid = transactions::ParseGid(item.gid);
    if (gid && running.count(gid->transaction) == 0) running[gid->transaction] = StillRunning(gid->transaction);
  }
  std::set<uint64_t> xids;
  for (const auto& [xid, is_running] : running) xids.insert(xid);
  const std::set<uint64_t> committed = WithCommitRecord(xids);

  std::set<std::pair<uint64_t, metadata::NodeId>> unfinished;  // (xid, node) still prepared after this pass
  for (const InDoubt& item : in_doubt) {
    const auto gid = transactions::ParseGid(item.gid);
    if (!gid) continue;
    const transactions::Resolution resolution =
        transactions::Resolve(running[gid->transaction], committed.count(gid->transaction) > 0);
    if (resolution == transactions::Resolution::kWait) {
      outcome.waiting++;
      unfinished.insert({gid->transaction, item.node_id});
      continue;
    }
    const std::string command = std::string(resolution == transactions::Resolution::kCommit ? "COMMIT" : "ROLLBACK") +
                                " PREPARED '" + item.gid + "'";
    try {
      auto it = connections.find(item.node_id);
      if (it == connections.end() || !it->second) throw Error(sqlstate::kConnectionFailure, "connection lost");
      it->second->Query(command);
      outcome.resolved++;
    } catch (const Error& error) {
      // 42704: it was resolved meanwhile (by its own backend, or another pass).
      if (error.Sqlstate() != "42704") {
        unfinished.insert({gid->transaction, item.node_id});
        outcome.problems.push_back(item.node + ": " + command + ": " + error.Message());
        auto it = connections.find(item.node_id);
        if (it != connections.end() && it->second && it->second->Broken()) connections.erase(it);
      }
    }
  }

  std::set<uint64_t> finished;
  for (const Record& record : records) {
    if (StillRunning(record.full_xid)) continue;
    bool done = true;
    for (metadata::NodeId participant : record.participants)
      done = done && unasked.count(participant) == 0 && unfinished.count({record.full_xid, participant}) == 0;
    if (done) finished.insert(record.full_xid);
  }
  if (!finished.empty()) {
    spi::WithSpi([&] {
      spi::Execute("DELETE FROM phantomdb.transaction_commits WHERE transaction_id = ANY ($1::pg_catalog.xid8[])",
                   {spi::Text(XidArray(finished))});
    });
  }
  return outcome;
}

}  // namespace phantom::pg::prepared_recovery
