// Test-only functions that prove the C++/Postgres error boundary
// (pg/guard.hpp). They are compiled into the library but not declared by the
// extension script: the regression test declares them itself (sql/boundary.sql).
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"

namespace phantom::pg {

namespace {

int64_t destructors_run = 0;

// Counts its own destruction: the observable proof that unwinding happened.
class DestructorProbe {
 public:
  DestructorProbe() = default;
  DestructorProbe(const DestructorProbe&) = delete;
  ~DestructorProbe() { destructors_run++; }
};

// Throws the exception kind named by `kind` from under live C++ objects.
Datum TestThrow(FunctionCallInfo fcinfo) {
  DestructorProbe probe;
  const std::string kind = RequiredText(fcinfo, 0, "kind");
  const std::string sqlstate = RequiredText(fcinfo, 1, "sqlstate");
  std::vector<std::string> live_objects(3, "allocated by C++ and freed by unwinding");
  if (kind == "phantom")
    throw Error(sqlstate, "C++ error raised with SQLSTATE " + sqlstate, "Detail from C++.", "Hint from C++.");
  if (kind == "std") throw std::runtime_error("a std::runtime_error");
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "unknown") throw 42;
  PG_RETURN_TEXT_P(cstring_to_text(live_objects[0].c_str()));
}

// Calls int4in under PgCall on `input` while C++ objects are alive; a bad
// input raises a Postgres ERROR that must unwind them and reach the user as is.
Datum TestPgErrorUnwinds(FunctionCallInfo fcinfo) {
  DestructorProbe probe;
  const std::string input = RequiredText(fcinfo, 0, "input");
  std::string copy = input + " (a C++ copy)";
  Datum value = PgCall([&] { return DirectFunctionCall1(int4in, CStringGetDatum(input.c_str())); });
  PG_RETURN_INT32(DatumGetInt32(value));
}

// Spins in C++ for `seconds`, checking for interrupts, so a cancel or
// statement_timeout has to reach into a long C++ computation.
Datum TestSpin(FunctionCallInfo fcinfo) {
  DestructorProbe probe;
  const double seconds = PG_GETARG_FLOAT8(0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  double sink = 0;
  int64_t rounds = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 10000; i++) sink += std::sqrt(static_cast<double>(i + rounds));
    rounds++;
    CheckForInterrupts();
  }
  PG_RETURN_INT64(rounds > 0 && sink > 0 ? rounds : 0);
}

Datum TestDestructorsRun(FunctionCallInfo) { PG_RETURN_INT64(destructors_run); }

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_test_throw, phantom::pg::TestThrow)
PHANTOM_FUNCTION(phantom_test_pg_error_unwinds, phantom::pg::TestPgErrorUnwinds)
PHANTOM_FUNCTION(phantom_test_spin, phantom::pg::TestSpin)
PHANTOM_FUNCTION(phantom_test_destructors_run, phantom::pg::TestDestructorsRun)
