// Fan-out of read statements to nodes; see node_fanout.hpp.
#include "pg/executor/node_fanout.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/wait_event.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

void RunOnNodes(const std::vector<NodeStatement>& statements, ParamListInfo params, const std::vector<int>& used,
                TupleDesc descriptor, const ColumnMap& columns, Tuplestorestate* rows,
                std::vector<NodeTiming>* timings) {
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  std::map<metadata::NodeId, std::vector<const NodeStatement*>> by_node;
  for (const NodeStatement& statement : statements) by_node[statement.node_id].push_back(&statement);
  if (by_node.empty()) return;
  // This node's statement runs here, through SPI; every other statement
  // gets a connection of its own.
  std::map<metadata::NodeId, NodeTiming> timing;
  std::vector<std::pair<metadata::NodeId, NodeConnection*>> sent;
  const RemoteParams remote = RemoteParamsOf(params, used);
  const Clock::time_point start = Clock::now();
  try {
    for (const auto& [node_id, list] : by_node) {
      if (node_id == local) {
        if (list.size() > 1) throw Error(sqlstate::kInternalError, "several statements for this node");
        continue;
      }
      if (list.size() > connection_pool::ParallelReadConnections())
        throw Error(sqlstate::kInternalError, "more statements for a node than it may get connections");
      const CachedNode& node = metadata_cache::Node(node_id);
      std::vector<NodeConnection*> connections = connection_pool::AcquireForParallelRead(node, list.size());
      for (size_t i = 0; i < list.size(); i++) {
        NodeConnection* connection = connections[i];
        sent.emplace_back(node_id, connection);
        connection->SendQuery(list[i]->sql, remote.values, remote.types.empty() ? nullptr : remote.types.data());
      }
    }
    auto here = by_node.find(local);
    if (here != by_node.end()) {
      const NodeStatement& statement = *here->second.front();
      const Clock::time_point local_start = Clock::now();
      PgCall([] { SPI_connect(); });
      const uint64_t count = RunLocalStatement(statement.sql, params, statement.read_only, descriptor, columns, rows);
      PgCall([] { SPI_finish(); });
      NodeTiming& entry = timing[local];
      entry.rows += count;
      entry.milliseconds = MillisecondsSince(local_start);
    }
    std::optional<RemoteRowReader> reader;
    for (auto& [node_id, connection] : sent) {
      std::optional<Error> failure;
      uint64_t count = 0;
      while (NodeConnection::Result result = connection->NextResult()) {
        try {
          connection->ThrowIfError(result.get());
        } catch (const Error& error) {
          if (!failure) failure = error;
          continue;
        }
        if (!reader) reader.emplace(descriptor, columns);
        reader->Store(result.get(), rows);
        count += static_cast<uint64_t>(PQntuples(result.get()));
      }
      if (failure) throw *failure;
      NodeTiming& entry = timing[node_id];
      entry.rows += count;
      entry.milliseconds = MillisecondsSince(start);
    }
  } catch (...) {
    // A node may still be sending rows: its connection cannot be reused.
    for (auto& [node_id, connection] : sent)
      if (connection->TransactionStatus() != PQTRANS_IDLE && connection->TransactionStatus() != PQTRANS_INTRANS)
        connection_pool::DiscardConnection(connection);
    throw;
  }
  if (timings != nullptr)
    for (auto& [node_id, entry] : timing) timings->push_back({node_id, entry.rows, entry.milliseconds});
}

std::vector<std::string> TextRowsOnNode(const NodeStatement& statement, ParamListInfo params,
                                        const std::vector<int>& used) {
  TupleDesc text_row = PgCall([] {
    TupleDesc descriptor = CreateTemplateTupleDesc(1);
    TupleDescInitEntry(descriptor, 1, "line", TEXTOID, -1, 0);
    return descriptor;
  });
  Tuplestorestate* store = PgCall([] { return tuplestore_begin_heap(false, false, work_mem); });
  std::vector<std::string> lines;
  RunOnNodes({statement}, params, used, text_row, {}, store);
  TupleTableSlot* slot = PgCall([&] { return MakeSingleTupleTableSlot(text_row, &TTSOpsMinimalTuple); });
  while (PgCall([&] { return tuplestore_gettupleslot(store, true, false, slot); })) {
    bool is_null = false;
    const Datum line = PgCall([&] { return slot_getattr(slot, 1, &is_null); });
    lines.emplace_back(is_null ? "" : PgCall([&] { return TextDatumGetCString(line); }));
  }
  PgCall([&] {
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_end(store);
  });
  return lines;
}

NodeRowStream::NodeRowStream(const std::vector<NodeStatement>& statements, ParamListInfo params,
                             const std::vector<int>& used, TupleDesc descriptor)
    : reader_(descriptor, {}) {
  std::map<metadata::NodeId, std::vector<const NodeStatement*>> by_node;
  for (const NodeStatement& statement : statements) by_node[statement.node_id].push_back(&statement);
  const RemoteParams remote = RemoteParamsOf(params, used);
  for (const auto& [node_id, list] : by_node) {
    if (list.size() > connection_pool::ParallelReadConnections())
      throw Error(sqlstate::kInternalError, "more statements for a node than it may get connections");
    std::vector<NodeConnection*> connections =
        connection_pool::AcquireForStream(metadata_cache::Node(node_id), list.size());
    for (size_t i = 0; i < list.size(); i++) {
      // Recorded before sending: a failed send leaves a connection to close.
      sources_.push_back(Source{node_id, connections[i], nullptr, 0, false});
      connections[i]->SendQueryRowByRow(list[i]->sql, remote.values,
                                        remote.types.empty() ? nullptr : remote.types.data());
    }
  }
}

NodeRowStream::~NodeRowStream() {
  if (waits_ != nullptr) FreeWaitEventSet(waits_);
  for (Source& source : sources_) {
    if (!source.done) connection_pool::DiscardConnection(source.connection);
    connection_pool::ReleaseStream(source.connection);
  }
}

bool NodeRowStream::Next(TupleTableSlot* slot) {
  for (;;) {
    bool active = false;
    for (size_t k = 0; k < sources_.size(); k++) {
      const size_t index = (next_ + k) % sources_.size();
      Source& source = sources_[index];
      while (!source.done) {
        if (source.result && source.row < PQntuples(source.result.get())) {
          reader_.ToSlot(source.result.get(), source.row++, slot);
          next_ = index + 1;
          return true;
        }
        if (!source.connection->ResultReady()) {
          active = true;
          break;
        }
        source.result = source.connection->NextResult();
        source.row = 0;
        if (!source.result) {
          source.done = true;
          break;
        }
        source.connection->ThrowIfError(source.result.get());
      }
    }
    if (!active) return false;
    WaitForAny();
  }
}

void NodeRowStream::WaitForAny() {
  size_t active = 0;
  for (const Source& source : sources_) active += source.done ? 0 : 1;
  // A finished connection's socket could stay readable: the set holds the
  // active ones only, rebuilt when one finishes.
  if (waits_ == nullptr || waits_for_ != active) {
    if (waits_ != nullptr) FreeWaitEventSet(waits_);
    waits_ = nullptr;
    waits_ = PgCall([&] {
      WaitEventSet* set = CreateWaitEventSet(TopMemoryContext, static_cast<int>(active) + 2);
      AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
      AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
      for (const Source& source : sources_)
        if (!source.done) AddWaitEventToSet(set, WL_SOCKET_READABLE, source.connection->Socket(), nullptr, nullptr);
      return set;
    });
    waits_for_ = active;
  }
  PgCall([&] {
    WaitEvent event;
    WaitEventSetWait(waits_, -1, &event, 1, PG_WAIT_EXTENSION);
    if (event.events & WL_LATCH_SET) ResetLatch(MyLatch);
  });
  CheckForInterrupts();
}

void NodeRowStream::Finish() {
  for (Source& source : sources_) {
    if (source.done) continue;
    try {
      source.connection->Cancel();
      // The rest of the rows (or the cancellation's error) is read and dropped.
      while (NodeConnection::Result result = source.connection->NextResult()) {
      }
      source.done = true;
    } catch (...) {
      connection_pool::DiscardConnection(source.connection);
      source.done = true;
    }
  }
}

}  // namespace phantom::pg
