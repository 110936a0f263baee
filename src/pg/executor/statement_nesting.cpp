// Statement nesting; see statement_nesting.hpp.
#include "pg/executor/statement_nesting.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "executor/executor.h"
}

namespace phantom::pg::statement_nesting {

namespace {

int depth = 0;
ExecutorRun_hook_type previous_run = nullptr;
ExecutorFinish_hook_type previous_finish = nullptr;

// No C++ object lives in these frames: an ERROR longjmps through them.
void Run(QueryDesc* query, ScanDirection direction, uint64 count, bool execute_once) {
  depth++;
  PG_TRY();
  {
    if (previous_run != nullptr)
      previous_run(query, direction, count, execute_once);
    else
      standard_ExecutorRun(query, direction, count, execute_once);
  }
  PG_FINALLY();
  { depth--; }
  PG_END_TRY();
}

// AFTER triggers fire here; their statements are nested too.
void Finish(QueryDesc* query) {
  depth++;
  PG_TRY();
  {
    if (previous_finish != nullptr)
      previous_finish(query);
    else
      standard_ExecutorFinish(query);
  }
  PG_FINALLY();
  { depth--; }
  PG_END_TRY();
}

}  // namespace

bool Nested() noexcept { return depth > 1; }

void RunCounted(void (*run)(void*), void* argument) {
  depth++;
  PG_TRY();
  { run(argument); }
  PG_FINALLY();
  { depth--; }
  PG_END_TRY();
}

void InstallHooks() {
  previous_run = ExecutorRun_hook;
  ExecutorRun_hook = Run;
  previous_finish = ExecutorFinish_hook;
  ExecutorFinish_hook = Finish;
}

}  // namespace phantom::pg::statement_nesting
