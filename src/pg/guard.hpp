// The C++/Postgres error boundary (docs/architecture.md, "Errors").
//
// Postgres reports errors with longjmp, C++ with exceptions; neither may cross
// into the other. Two tools keep them apart:
//  - PHANTOM_FUNCTION defines an SQL-callable entry point as a one-line shim
//    into a C++ body run by GuardEntry, which catches every exception, lets
//    every destructor run, and only then raises the Postgres ERROR, keeping
//    the SQLSTATE, detail and hint.
//  - PgCall runs a callable that calls into Postgres; a Postgres ERROR raised
//    inside becomes a PgError exception, so C++ objects on the stack outside
//    the callable are destroyed normally while it propagates. The callable
//    itself must hold no object with a destructor: longjmp skips them.
// A PgError reaching GuardEntry is re-raised unchanged, so the user sees the
// original Postgres error.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "pg/postgres.hpp"

namespace phantom::pg {

// A Postgres ERROR caught by PgCall. Owns a copy of the ErrorData (palloc'd in
// the memory context current when PgCall was entered).
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) : data_(data) {}
  const char* what() const noexcept override { return data_->message ? data_->message : "Postgres error"; }
  ErrorData* Data() const noexcept { return data_; }

 private:
  ErrorData* data_;
};

// Throws PgError for the error Postgres is currently handling (used inside a
// PG_CATCH block only).
[[noreturn]] void ThrowCurrentPgError(MemoryContext context);

// Restores Postgres's error handler if a C++ exception leaves a PG_TRY block
// (a nested PgCall's PgError passing through): the block's jump buffer dies
// with its frame, and the next Postgres ERROR would jump into it.
template <typename Fn>
auto RestoringErrorStack(sigjmp_buf* stack, ErrorContextCallback* context_stack, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    PG_exception_stack = stack;
    error_context_stack = context_stack;
    throw;
  }
}

template <typename Fn>
auto PgCall(Fn&& fn) -> decltype(fn()) {
  using Result = decltype(fn());
  MemoryContext context = CurrentMemoryContext;
  sigjmp_buf* stack = PG_exception_stack;
  ErrorContextCallback* context_stack = error_context_stack;
  if constexpr (std::is_void_v<Result>) {
    PG_TRY();
    { RestoringErrorStack(stack, context_stack, fn); }
    PG_CATCH();
    { ThrowCurrentPgError(context); }
    PG_END_TRY();
  } else {
    static_assert(std::is_trivially_destructible_v<Result>, "PgCall returns only plain values");
    Result result{};
    PG_TRY();
    { result = RestoringErrorStack(stack, context_stack, fn); }
    PG_CATCH();
    { ThrowCurrentPgError(context); }
    PG_END_TRY();
    return result;
  }
}

// CHECK_FOR_INTERRUPTS for C++ code: a pending cancel or termination becomes
// a PgError, unwinding the C++ stack before Postgres handles it.
inline void CheckForInterrupts() {
  if (INTERRUPTS_PENDING_CONDITION()) PgCall([] { ProcessInterrupts(); });
}

// Reports a WARNING or NOTICE from C++ code (never ERROR: throw instead).
void Report(int level, const char* message, const char* detail = nullptr, const char* hint = nullptr);

// The error an exception turns into, copied into fixed buffers so that
// nothing is allocated while an exception is in flight.
struct PendingError {
  ErrorData* pg_error = nullptr;  // set: re-raise this Postgres error as is
  int sqlerrcode = 0;
  char message[1024] = {};
  char detail[1024] = {};
  char hint[512] = {};
};

void CaptureCurrentException(PendingError& pending) noexcept;
[[noreturn]] void RaisePendingError(const PendingError& pending);

template <typename Body>
Datum GuardEntry(FunctionCallInfo fcinfo, Body body) {
  PendingError pending;
  try {
    return body(fcinfo);
  } catch (...) {
    CaptureCurrentException(pending);
  }
  // Every C++ object of the body is destroyed by now.
  RaisePendingError(pending);
}

// The same boundary for hooks and callbacks that Postgres calls with its own
// signature (planner hook, CustomScan methods, transaction callbacks).
template <typename Body>
auto GuardHook(Body body) -> decltype(body()) {
  PendingError pending;
  try {
    return body();
  } catch (...) {
    CaptureCurrentException(pending);
  }
  RaisePendingError(pending);
}

}  // namespace phantom::pg

// Defines the SQL-callable C function `sql_name` as a shim into
// `Datum impl(FunctionCallInfo)`.
#define PHANTOM_FUNCTION(sql_name, impl)                                               \
  extern "C" {                                                                         \
  PG_FUNCTION_INFO_V1(sql_name);                                                       \
  Datum sql_name(PG_FUNCTION_ARGS) { return ::phantom::pg::GuardEntry(fcinfo, impl); } \
  }
