// The SQL surface of distributed transactions: phantom_recover_prepared_transactions(),
// the rows behind phantom_dist_transactions, and phantomdb.join_transaction,
// which a coordinator sends with every remote BEGIN.
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/transactions/global_transaction_id.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/transactions/backend_transactions.hpp"
#include "pg/transactions/prepared_recovery.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

Datum RecoverPreparedTransactions(FunctionCallInfo) {
  const prepared_recovery::Outcome outcome = prepared_recovery::Recover(true);
  for (const std::string& problem : outcome.problems) Report(WARNING, problem.c_str());
  PG_RETURN_INT32(outcome.resolved);
}

Datum JoinTransaction(FunctionCallInfo fcinfo) {
  backend_transactions::DistributedId id;
  id.node = static_cast<uint32_t>(PG_GETARG_INT32(0));
  id.number = static_cast<uint64_t>(PG_GETARG_INT64(1));
  id.start_us = PG_GETARG_INT64(2);
  backend_transactions::Join(id);
  PG_RETURN_VOID();
}

std::string TransactionIdText(const backend_transactions::DistributedId& id) {
  return std::to_string(id.node) + ":" + std::to_string(id.number);
}

Datum TimestampFromUnixUs(int64_t unix_us) {
  return TimestampTzGetDatum(unix_us - (static_cast<int64_t>(POSTGRES_EPOCH_JDATE) - UNIX_EPOCH_JDATE) * SECS_PER_DAY *
                                           USECS_PER_SEC);
}

// One row per transaction this node coordinates or serves, and one per
// prepared transaction of this node's that waits on another node.
Datum DistTransactions(FunctionCallInfo fcinfo) {
  struct Row {
    std::string transaction_id, role, state, gid;
    int pid = 0;
    int64_t start_us = 0;
    std::string participants;  // "{...}" text of node names
  };
  std::vector<Row> rows;
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  const auto name_of = [&](metadata::NodeId node) -> std::string {
    try {
      return metadata_cache::Node(node).name;
    } catch (const Error&) {
      return std::to_string(node);
    }
  };
  for (const backend_transactions::Snapshot& slot : backend_transactions::All()) {
    Row row;
    row.transaction_id = TransactionIdText(slot.id);
    row.role = slot.coordinator ? "coordinator" : "participant";
    row.state = backend_transactions::StateName(slot.state);
    row.pid = slot.pid;
    row.start_us = slot.id.start_us;
    std::string list;
    for (metadata::NodeId node : slot.participants) {
      if (!list.empty()) list += ",";
      list += "\"" + name_of(node) + "\"";
    }
    row.participants = "{" + list + "}";
    rows.push_back(std::move(row));
  }
  if (local != 0) {
    // In doubt: prepared on a node while no backend here is committing it.
    std::vector<std::string> unreachable;
    for (const prepared_recovery::InDoubt& item : prepared_recovery::ListPrepared(&unreachable)) {
      const auto gid = transactions::ParseGid(item.gid);
      if (!gid) continue;
      bool live = false;
      for (const backend_transactions::Snapshot& slot : backend_transactions::All())
        live = live || (slot.coordinator && slot.full_xid == gid->transaction);
      if (live) continue;
      Row row;
      row.transaction_id = "xid " + std::to_string(gid->transaction);
      row.role = "coordinator";
      row.state = "in doubt";
      row.gid = item.gid;
      row.participants = "{\"" + name_of(item.node_id) + "\"}";
      rows.push_back(std::move(row));
    }
    for (const std::string& problem : unreachable) Report(WARNING, problem.c_str());
  }

  PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
  auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const Row& row : rows) {
    PgCall([&] {
      Datum values[7];
      bool nulls[7] = {};
      values[0] = CStringGetTextDatum(row.transaction_id.c_str());
      values[1] = CStringGetTextDatum(row.role.c_str());
      values[2] = CStringGetTextDatum(row.state.c_str());
      nulls[4] = row.pid == 0;
      values[4] = Int32GetDatum(row.pid);
      nulls[5] = row.start_us == 0;
      values[5] = TimestampFromUnixUs(row.start_us);
      nulls[6] = row.gid.empty();
      values[6] = nulls[6] ? Datum(0) : CStringGetTextDatum(row.gid.c_str());
      values[3] = OidInputFunctionCall(F_ARRAY_IN, const_cast<char*>(row.participants.c_str()), TEXTOID, -1);
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_recover_prepared_transactions, phantom::pg::RecoverPreparedTransactions)
PHANTOM_FUNCTION(phantom_join_transaction, phantom::pg::JoinTransaction)
PHANTOM_FUNCTION(phantom_dist_transactions, phantom::pg::DistTransactions)
