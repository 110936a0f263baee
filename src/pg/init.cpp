// Library load: settings, hooks and callbacks; when the postmaster preloads
// the library, also shared memory and the maintenance launcher (which exist
// only then), and the check that CREATE EXTENSION runs only where it did.
#include "pg/init.hpp"

#include "pg/commands/ddl_propagation.hpp"
#include "pg/executor/explain_analyze.hpp"
#include "pg/executor/fragment_scan.hpp"
#include "pg/executor/router_scan.hpp"
#include "pg/executor/shard_scan.hpp"
#include "pg/executor/statement_nesting.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/planner/distributed_planner.hpp"
#include "pg/planner/shard_scan_path.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/executor/metadata_fence.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/settings.hpp"
#include "pg/transactions/backend_transactions.hpp"
#include "pg/transactions/deadlock_detector.hpp"
#include "pg/transactions/distributed_commit.hpp"
#include "pg/transactions/maintenance_worker.hpp"
#include "pg/transactions/transaction_duties.hpp"
#include "pg/shared_memory.hpp"

#include "core/common/error.hpp"

namespace {

bool loaded_at_startup = false;

Datum AssertPreloaded(FunctionCallInfo) {
  if (!loaded_at_startup)
    throw phantom::Error(phantom::sqlstate::kObjectNotInPrerequisiteState,
                         "phantomdb must be loaded via shared_preload_libraries", "",
                         "Add phantomdb to shared_preload_libraries in postgresql.conf and restart the server.");
  PG_RETURN_VOID();
}

}  // namespace

bool phantom::pg::LoadedAtStartup() { return loaded_at_startup; }

PHANTOM_FUNCTION(phantom_assert_preloaded, AssertPreloaded)

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void _PG_init(void) {
  loaded_at_startup = process_shared_preload_libraries_in_progress;
  phantom::pg::DefineSettings();
  phantom::pg::metadata_cache::Register();
  phantom::pg::connection_pool::Register();
  phantom::pg::distributed_commit::Register();
  if (loaded_at_startup) {
    phantom::pg::backend_transactions::Register();
    phantom::pg::RegisterTransactionDuties();
    // Victims are marked in shared memory, which exists only when preloaded.
    phantom::pg::deadlock_detector::InstallVictimErrorHook();
    phantom::pg::raft_shared::Register();
    phantom::pg::maintenance_worker::Register();
    phantom::pg::shared_memory::InstallHooks();
  }
  phantom::pg::InstallPlannerHook();
  phantom::pg::InstallExplainHook();
  phantom::pg::RegisterRouterScan();
  phantom::pg::RegisterShardScan();
  phantom::pg::RegisterFragmentScan();
  phantom::pg::InstallShardScanHook();
  phantom::pg::InstallUtilityHook();
  phantom::pg::statement_nesting::InstallHooks();
  phantom::pg::metadata_fence::InstallHook();
}
}
