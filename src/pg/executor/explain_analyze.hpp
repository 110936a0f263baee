// Whether the statement being executed runs under EXPLAIN ANALYZE. The
// router then runs EXPLAIN ANALYZE of the shard SQL on the node instead of
// the SQL itself (so a write happens once, and the remote plan with its
// timing can be shown). auto_explain also instruments queries, which is why
// instrumentation alone is not taken as the sign.
#pragma once

#include <string>

namespace phantom::pg {

bool ExplainAnalyzeRunning();

// The options of the innermost running EXPLAIN ANALYZE as an option list for
// the shard's own EXPLAIN, e.g. "ANALYZE, COSTS OFF, TIMING ON, BUFFERS OFF,
// VERBOSE OFF, SUMMARY OFF", so the remote plan shows what the user asked for.
std::string RemoteExplainOptions();

// From _PG_init.
void InstallExplainHook();

}  // namespace phantom::pg
