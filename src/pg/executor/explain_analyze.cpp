// See explain_analyze.hpp. The hook does what EXPLAIN does without one
// (plan, then ExplainOnePlan), counting the depth of analyzing EXPLAINs.
#include "pg/executor/explain_analyze.hpp"

#include "pg/guard.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/instrument.h"
#include "optimizer/planner.h"
#include "portability/instr_time.h"
#include "tcop/tcopprot.h"
}

namespace phantom::pg {

namespace {

int analyze_depth = 0;
ExplainState* analyzing = nullptr;  // the innermost analyzing EXPLAIN
ExplainOneQuery_hook_type previous_hook = nullptr;

void ExplainOneQueryHook(Query* query, int cursor_options, IntoClause* into, ExplainState* es, const char* query_string,
                         ParamListInfo params, QueryEnvironment* query_env) {
  // Plain C control flow on purpose: a Postgres ERROR unwinds through here,
  // and PG_FINALLY restores the depth.
  ExplainState* outer = analyzing;
  if (es->analyze) {
    analyze_depth++;
    analyzing = es;
  }
  PG_TRY();
  {
    if (previous_hook != nullptr) {
      previous_hook(query, cursor_options, into, es, query_string, params, query_env);
    } else {
      instr_time start;
      instr_time duration;
      BufferUsage buffers_start = pgBufferUsage;
      BufferUsage buffers;
      INSTR_TIME_SET_CURRENT(start);
      PlannedStmt* plan = pg_plan_query(query, query_string, cursor_options, params);
      INSTR_TIME_SET_CURRENT(duration);
      INSTR_TIME_SUBTRACT(duration, start);
      if (es->buffers) {
        memset(&buffers, 0, sizeof(buffers));
        BufferUsageAccumDiff(&buffers, &pgBufferUsage, &buffers_start);
      }
      ExplainOnePlan(plan, into, es, query_string, params, query_env, &duration, es->buffers ? &buffers : nullptr);
    }
  }
  PG_FINALLY();
  {
    if (es->analyze) {
      analyze_depth--;
      analyzing = outer;
    }
  }
  PG_END_TRY();
}

}  // namespace

bool ExplainAnalyzeRunning() { return analyze_depth > 0; }

bool ExplainsExecute(const ExplainStmt* stmt) {
  const Node* query = stmt->query;
  if (query == nullptr || !IsA(query, Query)) return false;
  const Query* analyzed = reinterpret_cast<const Query*>(query);
  return analyzed->commandType == CMD_UTILITY && analyzed->utilityStmt != nullptr &&
         IsA(analyzed->utilityStmt, ExecuteStmt);
}

void RunExplainOfExecute(const ExplainStmt* stmt, void (*run)(void*), void* arg) {
  // The options as ExplainQuery reads them (it rejects bad ones itself).
  ExplainState* es = NewExplainState();
  bool timing_set = false;
  ListCell* cell = nullptr;
  foreach (cell, stmt->options) {
    auto* option = static_cast<DefElem*>(lfirst(cell));
    if (strcmp(option->defname, "analyze") == 0) {
      es->analyze = defGetBoolean(option);
    } else if (strcmp(option->defname, "costs") == 0) {
      es->costs = defGetBoolean(option);
    } else if (strcmp(option->defname, "buffers") == 0) {
      es->buffers = defGetBoolean(option);
    } else if (strcmp(option->defname, "verbose") == 0) {
      es->verbose = defGetBoolean(option);
    } else if (strcmp(option->defname, "wal") == 0) {
      es->wal = defGetBoolean(option);
    } else if (strcmp(option->defname, "timing") == 0) {
      timing_set = true;
      es->timing = defGetBoolean(option);
    }
  }
  if (!timing_set) es->timing = es->analyze;
  if (!es->analyze) {
    run(arg);
    return;
  }
  ExplainState* outer = analyzing;
  analyze_depth++;
  analyzing = es;
  PG_TRY();
  { run(arg); }
  PG_FINALLY();
  {
    analyze_depth--;
    analyzing = outer;
  }
  PG_END_TRY();
}

std::string RemoteExplainOptions() {
  auto flag = [](const char* name, bool on) { return std::string(", ") + name + (on ? " ON" : " OFF"); };
  const ExplainState* es = analyzing;
  if (es == nullptr) return "ANALYZE";
  // The summary (planning and execution time) is the user's EXPLAIN's own.
  return "ANALYZE" + flag("COSTS", es->costs) + flag("TIMING", es->timing) + flag("BUFFERS", es->buffers) +
         flag("VERBOSE", es->verbose) + flag("WAL", es->wal) + ", SUMMARY OFF";
}

void InstallExplainHook() {
  previous_hook = ExplainOneQuery_hook;
  ExplainOneQuery_hook = ExplainOneQueryHook;
}

void ExplainRemotePlan(const std::vector<std::string>& lines, ExplainState* es) {
  PgCall([&] {
    if (es->format == EXPLAIN_FORMAT_TEXT) {
      appendStringInfoSpaces(es->str, es->indent * 2);
      appendStringInfoString(es->str, "Remote Plan:\n");
      for (const std::string& line : lines) {
        appendStringInfoSpaces(es->str, es->indent * 2 + 4);
        appendStringInfo(es->str, "%s\n", line.c_str());
      }
      return;
    }
    List* list = NIL;
    for (const std::string& line : lines) list = lappend(list, pstrdup(line.c_str()));
    ExplainPropertyList("Remote Plan", list, es);
  });
}

}  // namespace phantom::pg
