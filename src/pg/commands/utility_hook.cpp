// The ProcessUtility hook: COPY and DDL that concern distributed or
// reference tables go to distributed_copy.hpp and ddl_propagation.hpp; every
// other utility statement reaches Postgres untouched.
//
// The standard ProcessUtility is called directly (not under PgCall) for
// statements that are not ours: some of them commit and start transactions
// inside (VACUUM, CREATE INDEX CONCURRENTLY, CALL), and a PG_TRY spanning that
// would keep a memory context that the commit frees. The decision whether a
// statement may be ours is a node-tag test plus a look at the metadata
// cache, so a database without distributed tables pays next to nothing.
#include "core/common/error.hpp"
#include "pg/commands/ddl_propagation.hpp"
#include "pg/commands/distributed_copy.hpp"
#include "pg/executor/explain_analyze.hpp"
#include "pg/executor/statement_nesting.hpp"
#include "pg/guard.hpp"
#include "pg/settings.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/transactions/maintenance_worker.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "utils/snapmgr.h"
}

namespace phantom::pg {

namespace {

ProcessUtility_hook_type previous_utility = nullptr;

void StandardUtility(PlannedStmt* pstmt, const char* query_string, bool read_only_tree, ProcessUtilityContext context,
                     ParamListInfo params, QueryEnvironment* query_env, DestReceiver* dest,
                     QueryCompletion* completion) {
  if (previous_utility != nullptr)
    previous_utility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
  else
    standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
}

// The statements that can name a distributed or reference table.
bool MayConcernTables(const Node* stmt) noexcept {
  switch (nodeTag(stmt)) {
    case T_CopyStmt:
    case T_DropStmt:
    case T_TruncateStmt:
    case T_IndexStmt:
    case T_AlterTableStmt:
    case T_RenameStmt:
    case T_AlterObjectSchemaStmt:
    case T_GrantStmt:
      return true;
    default:
      return false;
  }
}

// CREATE INDEX CONCURRENTLY on a distributed table (ddl_propagation.hpp):
// every step that may commit runs as a direct C call from this frame, which
// holds no C++ object; the state between steps lives in ddl_propagation.cpp.
void ConcurrentIndex(PlannedStmt* pstmt, const char* query_string, bool read_only_tree, ProcessUtilityContext context,
                     ParamListInfo params, QueryEnvironment* query_env, DestReceiver* dest,
                     QueryCompletion* completion) {
  // The portal's context, which outlives the transactions the build commits.
  MemoryContext statement_context = CurrentMemoryContext;
  const bool ours = GuardHook([&] { return PrepareConcurrentIndex(pstmt); });
  StandardUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
  if (!ours) return;
  MemoryContextSwitchTo(statement_context);
  if (!GuardHook([] { return ResolveConcurrentIndex(); })) return;
  GuardHook([] { FinishConcurrentIndex(); });
}

// A utility call's arguments, for running it from a plain C callback.
struct UtilityCall {
  PlannedStmt* pstmt;
  const char* query_string;
  bool read_only_tree;
  ProcessUtilityContext context;
  ParamListInfo params;
  QueryEnvironment* query_env;
  DestReceiver* dest;
  QueryCompletion* completion;
};

void RunUtilityCall(void* raw) {
  auto* call = static_cast<UtilityCall*>(raw);
  StandardUtility(call->pstmt, call->query_string, call->read_only_tree, call->context, call->params, call->query_env,
                  call->dest, call->completion);
}

// The database a statement needs free of other sessions (the maintenance
// worker's among them), or InvalidOid.
Oid DatabaseNeededAlone(Node* stmt) noexcept {
  const char* name = nullptr;
  if (IsA(stmt, DropdbStmt)) name = castNode(DropdbStmt, stmt)->dbname;
  if (IsA(stmt, RenameStmt) && castNode(RenameStmt, stmt)->renameType == OBJECT_DATABASE)
    name = castNode(RenameStmt, stmt)->subname;
  if (IsA(stmt, CreatedbStmt)) {
    ListCell* cell;
    foreach (cell, castNode(CreatedbStmt, stmt)->options) {
      auto* option = lfirst_node(DefElem, cell);
      if (strcmp(option->defname, "template") == 0 && option->arg != nullptr) name = defGetString(option);
    }
  }
  if (IsA(stmt, AlterDatabaseStmt)) name = castNode(AlterDatabaseStmt, stmt)->dbname;
  if (name == nullptr) return InvalidOid;
  return GuardHook([&] { return PgCall([&] { return get_database_oid(name, true); }); });
}

void ProcessUtility(PlannedStmt* pstmt, const char* query_string, bool read_only_tree, ProcessUtilityContext context,
                    ParamListInfo params, QueryEnvironment* query_env, DestReceiver* dest,
                    QueryCompletion* completion) {
  Node* stmt = pstmt->utilityStmt;
  if (IsA(stmt, DropdbStmt) || IsA(stmt, RenameStmt) || IsA(stmt, CreatedbStmt) || IsA(stmt, AlterDatabaseStmt))
    maintenance_worker::StopWorker(DatabaseNeededAlone(stmt));
  if (IsA(stmt, DoStmt) || IsA(stmt, CallStmt)) {
    UtilityCall call{pstmt, query_string, read_only_tree, context, params, query_env, dest, completion};
    statement_nesting::RunCounted(RunUtilityCall, &call);
    return;
  }
  if (IsA(stmt, CreateExtensionStmt) && strcmp(castNode(CreateExtensionStmt, stmt)->extname, "phantomdb") == 0) {
    StandardUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
    GuardHook([] { maintenance_worker::RequestWorkerAtCommit(MyDatabaseId); });
    return;
  }
  if (IsA(stmt, ExplainStmt) && ExplainsExecute(castNode(ExplainStmt, stmt))) {
    UtilityCall call{pstmt, query_string, read_only_tree, context, params, query_env, dest, completion};
    RunExplainOfExecute(castNode(ExplainStmt, stmt), RunUtilityCall, &call);
    return;
  }
  // A statement another node sends here is this node's part of its work
  // (a shell's or shard's DDL, a COPY into a shard): propagating it again
  // would send it back round the cluster.
  if (!MayConcernTables(stmt) || node_session || !GuardHook([] {
        metadata_cache::EnsureLoaded();
        return metadata_cache::AnyTables();
      })) {
    StandardUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
    return;
  }
  if (IsA(stmt, CopyStmt)) {
    const bool done =
        GuardHook([&] { return ExecuteDistributedCopy(pstmt, query_string, params, query_env, dest, completion); });
    if (!done) StandardUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
    return;
  }
  if (IsA(stmt, IndexStmt) && castNode(IndexStmt, stmt)->concurrent) {
    ConcurrentIndex(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
    return;
  }
  const bool done = GuardHook([&] {
    // read_only_tree = true: Postgres works on a copy, so the parse tree the
    // propagation reads after the local run is the user's, unmodified.
    const std::function<void()> run_local = [&] {
      PgCall([&] { StandardUtility(pstmt, query_string, true, context, params, query_env, dest, completion); });
    };
    return ExecuteDistributedDdl(pstmt, query_string, context, run_local);
  });
  if (!done) StandardUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, completion);
}

}  // namespace

void InstallUtilityHook() {
  previous_utility = ProcessUtility_hook;
  ProcessUtility_hook = ProcessUtility;
}

}  // namespace phantom::pg
