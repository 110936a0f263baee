// Whether the statement being executed runs under EXPLAIN ANALYZE. The
// router then runs EXPLAIN ANALYZE of the shard SQL on the node instead of
// the SQL itself (so a write happens once, and the remote plan with its
// timing can be shown). auto_explain also instruments queries, which is why
// instrumentation alone is not taken as the sign.
#pragma once

#include <string>
#include <vector>

#include "pg/postgres.hpp"

extern "C" {
#include "commands/explain.h"
}

namespace phantom::pg {

bool ExplainAnalyzeRunning();

// The options of the innermost running EXPLAIN ANALYZE as an option list for
// the shard's own EXPLAIN, e.g. "ANALYZE, COSTS OFF, TIMING ON, BUFFERS OFF,
// VERBOSE OFF, SUMMARY OFF", so the remote plan shows what the user asked for.
std::string RemoteExplainOptions();

// Adds a node's plan (its EXPLAIN output lines) to the plan being explained,
// as "Remote Plan".
void ExplainRemotePlan(const std::vector<std::string>& lines, ExplainState* es);

// EXPLAIN ANALYZE EXECUTE plans nothing, so ExplainOneQuery_hook never sees
// it: the utility hook runs such a statement through this, which counts it
// as an analyzing EXPLAIN (with the options it names) while run(arg) runs.
// Plain C callback: a Postgres ERROR may unwind through it.
bool ExplainsExecute(const ExplainStmt* stmt);
void RunExplainOfExecute(const ExplainStmt* stmt, void (*run)(void*), void* arg);

// From _PG_init.
void InstallExplainHook();

}  // namespace phantom::pg
