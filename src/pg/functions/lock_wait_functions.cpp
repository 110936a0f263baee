// The SQL surface of lock waits (lock_waits.hpp): phantomdb.lock_waits(),
// which every node answers for the deadlock detector, and
// phantomdb.isolation_test_session_is_blocked, which isolation specs swap in
// for Postgres's pg_isolation_test_session_is_blocked.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/transactions/backend_transactions.hpp"
#include "pg/transactions/lock_waits.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

// One row per (waiting, blocking) pair of backends on this node. Each side
// is either a distributed transaction (node, number; local_xact NULL) or a
// plain local one (node and number NULL; pid and local_xact name it).
Datum LockWaits(FunctionCallInfo fcinfo) {
  const std::vector<lock_waits::Wait> waits = lock_waits::Local();
  PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
  auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const lock_waits::Wait& wait : waits) {
    PgCall([&] {
      Datum values[10];
      bool nulls[10] = {};
      const lock_waits::Side* sides[2] = {&wait.waiting, &wait.blocking};
      for (int i = 0; i < 2; i++) {
        const lock_waits::Side& side = *sides[i];
        const int at = i * 5;
        values[at] = Int32GetDatum(side.pid);
        values[at + 1] = Int32GetDatum(static_cast<int32>(side.node));
        values[at + 2] = Int64GetDatum(static_cast<int64>(side.number));
        values[at + 3] = Int64GetDatum(static_cast<int64>(side.local_xact));
        values[at + 4] = Int64GetDatum(side.start_us);
        nulls[at + 1] = nulls[at + 2] = !side.distributed;
        nulls[at + 3] = side.distributed;
        nulls[at + 4] = side.start_us == 0;
      }
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

std::set<int> PidsOf(Datum array_datum) {
  std::set<int> pids;
  PgCall([&] {
    ArrayType* array = DatumGetArrayTypeP(array_datum);
    Datum* elements = nullptr;
    bool* element_nulls = nullptr;
    int count = 0;
    deconstruct_array(array, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elements, &element_nulls, &count);
    for (int i = 0; i < count; i++)
      if (!element_nulls[i]) pids.insert(DatumGetInt32(elements[i]));
  });
  return pids;
}

// Postgres's answer, or, for a backend coordinating a distributed
// transaction here, whether that transaction's backend on some node waits
// for a lock held by a transaction of one of interesting_pids (a plain
// session on this node, or a distributed transaction coordinated here by
// one). Like Postgres's function, waits for anyone else (autovacuum) do not
// count.
Datum IsolationTestSessionIsBlocked(FunctionCallInfo fcinfo) {
  const int pid = PG_GETARG_INT32(0);
  const Datum interesting_array = PG_GETARG_DATUM(1);
  // The built-in C function, called directly: under its SQL name this very
  // function may be installed.
  if (PgCall([&] {
        return DatumGetBool(
            DirectFunctionCall2(pg_isolation_test_session_is_blocked, Int32GetDatum(pid), interesting_array));
      }))
    PG_RETURN_BOOL(true);
  // Swapped into pg_catalog, it outlives DROP EXTENSION between specs.
  if (!PgCall([] { return OidIsValid(get_extension_oid("phantomdb", true)); })) PG_RETURN_BOOL(false);

  const std::optional<backend_transactions::Snapshot> slot = backend_transactions::OfPid(pid);
  if (!slot || !slot->coordinator) PG_RETURN_BOOL(false);
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  if (local == 0) PG_RETURN_BOOL(false);

  const std::set<int> interesting = PidsOf(interesting_array);
  std::map<transactions::TransactionId, int> coordinator_pid;
  for (const backend_transactions::Snapshot& other : backend_transactions::All())
    if (other.coordinator) coordinator_pid[{other.id.node, other.id.number}] = other.pid;
  const transactions::TransactionId mine{slot->id.node, slot->id.number};

  for (const lock_waits::NodeWaits& reported : lock_waits::Cluster(local, nullptr)) {
    for (const lock_waits::Wait& wait : reported.waits) {
      if (lock_waits::VertexOf(wait.waiting, reported.node) != mine) continue;
      const transactions::TransactionId holder = lock_waits::VertexOf(wait.blocking, reported.node);
      if (holder == mine) continue;
      int holder_pid = 0;
      if (wait.blocking.distributed) {
        auto found = coordinator_pid.find(holder);
        if (found != coordinator_pid.end()) holder_pid = found->second;
      } else if (reported.node == local) {
        holder_pid = wait.blocking.pid;
      }
      if (interesting.count(holder_pid) > 0) PG_RETURN_BOOL(true);
    }
  }
  PG_RETURN_BOOL(false);
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_lock_waits, phantom::pg::LockWaits)
PHANTOM_FUNCTION(phantom_isolation_test_session_is_blocked, phantom::pg::IsolationTestSessionIsBlocked)
