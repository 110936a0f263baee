// Fan-out of read statements to nodes; see node_fanout.hpp.
#include "pg/executor/node_fanout.hpp"

#include <optional>
#include <utility>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace phantom::pg {

void RunOnNodes(const std::vector<NodeStatement>& statements, ParamListInfo params, const std::vector<int>& used,
                TupleDesc descriptor, const ColumnMap& columns, Tuplestorestate* rows) {
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  std::vector<std::pair<const CachedNode*, NodeConnection*>> sent;
  const RemoteParams remote = RemoteParamsOf(params, used);
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
      PgCall([] { SPI_connect(); });
      RunLocalStatement(statement.sql, params, true, descriptor, columns, rows);
      PgCall([] { SPI_finish(); });
    }
    std::optional<RemoteRowReader> reader;
    for (auto& [node, connection] : sent) {
      std::optional<Error> failure;
      while (NodeConnection::Result result = connection->NextResult()) {
        try {
          connection->ThrowIfError(result.get());
        } catch (const Error& error) {
          if (!failure) failure = error;
          continue;
        }
        if (!reader) reader.emplace(descriptor, columns);
        reader->Store(result.get(), rows);
      }
      if (failure) throw *failure;
    }
  } catch (...) {
    // A node may still be sending rows: its connection cannot be reused.
    for (auto& [node, connection] : sent)
      if (connection->TransactionStatus() != PQTRANS_IDLE && connection->TransactionStatus() != PQTRANS_INTRANS)
        connection_pool::Discard(node->node_id);
    throw;
  }
}

}  // namespace phantom::pg
