// Fan-out of read statements to nodes; see node_fanout.hpp.
#include "pg/executor/node_fanout.hpp"

#include <chrono>
#include <optional>
#include <utility>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
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
  std::vector<std::pair<const CachedNode*, NodeConnection*>> sent;
  const RemoteParams remote = RemoteParamsOf(params, used);
  const Clock::time_point start = Clock::now();
  try {
    for (const NodeStatement& statement : statements) {
      if (statement.node_id == local) continue;
      const CachedNode& node = metadata_cache::Node(statement.node_id);
      NodeConnection& connection = connection_pool::Acquire(node, connection_pool::Access::kRead);
      sent.emplace_back(&node, &connection);
      connection.SendQuery(statement.sql, remote.values, remote.types.empty() ? nullptr : remote.types.data());
    }
    for (const NodeStatement& statement : statements) {
      if (statement.node_id != local) continue;
      const Clock::time_point local_start = Clock::now();
      PgCall([] { SPI_connect(); });
      const uint64_t count = RunLocalStatement(statement.sql, params, statement.read_only, descriptor, columns, rows);
      PgCall([] { SPI_finish(); });
      if (timings != nullptr) timings->push_back({local, count, MillisecondsSince(local_start)});
    }
    std::optional<RemoteRowReader> reader;
    for (auto& [node, connection] : sent) {
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
      if (timings != nullptr) timings->push_back({node->node_id, count, MillisecondsSince(start)});
    }
  } catch (...) {
    // A node may still be sending rows: its connection cannot be reused.
    for (auto& [node, connection] : sent)
      if (connection->TransactionStatus() != PQTRANS_IDLE && connection->TransactionStatus() != PQTRANS_INTRANS)
        connection_pool::Discard(node->node_id);
    throw;
  }
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

}  // namespace phantom::pg
