// The saga duty of the maintenance worker; see saga_runner.hpp.
#include "pg/transactions/saga_runner.hpp"

#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include "core/common/error.hpp"
#include "core/transactions/saga.hpp"
#include "pg/guard.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"
#include "pg/transactions/saga_catalog.hpp"

extern "C" {
#include "access/xact.h"
#include "common/pg_prng.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
}

namespace phantom::pg::saga_runner {

namespace {

using transactions::Action;
using transactions::Outcome;
using transactions::Saga;

// How long a saga whose bookkeeping failed (not its statement) waits before
// the worker tries it again, so that it cannot starve the others.
constexpr int64_t kPostponeUs = 1'000'000;
constexpr int kIdleMs = 1000;

// An error, copied out of the exception (and out of Postgres memory) before
// the subtransaction it happened in is rolled back.
struct Failure {
  std::string sqlstate;
  std::string message;
};

Failure Describe(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const PgError& error) {
    const ErrorData* data = error.Data();
    return {unpack_sql_state(data->sqlerrcode), data->message ? data->message : "error"};
  } catch (const Error& error) {
    return {error.Sqlstate(), error.Message()};
  } catch (const std::bad_alloc&) {
    return {"53200", "out of memory"};
  } catch (const std::exception& error) {
    return {sqlstate::kInternalError, error.what()};
  } catch (...) {
    return {sqlstate::kInternalError, "unknown error"};
  }
}

// Runs fn in an internal subtransaction, as a PL/pgSQL block with an
// EXCEPTION clause does (pl_exec.c, exec_stmt_block): committed into the
// enclosing transaction when fn returns, rolled back when it throws,
// whether the error came from Postgres or from C++. The rollback also
// restores the user, the settings and SPI as they were at the start.
template <typename Fn>
std::optional<Failure> InSubTransaction(Fn&& fn) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  PgCall([&] {
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
  });
  std::optional<Failure> failure;
  try {
    fn();
  } catch (...) {
    failure = Describe(std::current_exception());
  }
  PgCall([&] {
    if (failure)
      RollbackAndReleaseCurrentSubTransaction();
    else
      ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  });
  return failure;
}

// A role can be dropped while it owns sagas: nothing should run as an oid
// that no longer names one.
void CheckOwnerExists(const Saga& saga, Oid owner) {
  if (!PgCall([&] { return SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)); }))
    throw Error(sqlstate::kUndefinedObject, "the owner of saga " + std::to_string(saga.id) + " (role with OID " +
                                                std::to_string(owner) + ") no longer exists");
}

// A statement on this node, in a subtransaction of the duty's transaction,
// as the owner: what it did commits with the progress recorded after it, or
// not at all.
std::optional<Failure> RunLocal(const Saga& saga, Oid owner, const std::string& sql) {
  // Pooled node connections are opened as whoever runs first and kept; a
  // step writing a distributed table must reach the nodes as its owner.
  // None holds a transaction here: this is the start of the duty's.
  connection_pool::DiscardAll();
  return InSubTransaction([&] {
    CheckOwnerExists(saga, owner);
    // A security-restricted operation, like the index functions VACUUM
    // runs for a table's owner: the step cannot leave anything behind in
    // the worker's session for the next owner's steps (temporary tables,
    // WITH HOLD cursors, SET ROLE). Its SET commands are undone below.
    // On an error, the subtransaction's rollback restores user and settings.
    PgCall([&] {
      Oid saved_user = InvalidOid;
      int saved_context = 0;
      GetUserIdAndSecContext(&saved_user, &saved_context);
      SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
      const int nest_level = NewGUCNestLevel();
      SPI_connect();
      const int rc = SPI_execute(sql.c_str(), false, 0);
      if (rc == SPI_ERROR_TRANSACTION)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("a saga step cannot run transaction control statements")));
      if (rc < 0) elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
      // Deferred constraints are checked now, inside the subtransaction,
      // so that a violation is this step's failure rather than an error
      // at the duty's commit.
      if (SPI_execute("SET CONSTRAINTS ALL IMMEDIATE", false, 0) < 0) elog(ERROR, "SET CONSTRAINTS failed");
      SPI_finish();
      AtEOXact_GUC(false, nest_level);
      SetUserIdAndSecContext(saved_user, saved_context);
    });
  });
}

NodeConnection OpenAs(Oid owner, const std::string& host, int32_t port) {
  // NodeConnection::Open connects as the current user's name.
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  try {
    NodeConnection connection = NodeConnection::Open(host, port);
    SetUserIdAndSecContext(saved_user, saved_context);
    return connection;
  } catch (...) {
    SetUserIdAndSecContext(saved_user, saved_context);
    throw;
  }
}

// A statement on another node, on a connection of its own in autocommit
// (one implicit transaction there, even for several statements), as the
// owner's user name. Not bounded by phantomdb.node_timeout_ms: a step may
// legitimately run long; connecting is bounded, and a lost connection is a
// transient failure.
std::optional<Failure> RunRemote(const Saga& saga, Oid owner, const std::string& node, const std::string& sql) {
  return InSubTransaction([&] {
    CheckOwnerExists(saga, owner);
    std::string host;
    int32_t port = 0;
    spi::WithSpi([&] {
      spi::Execute("SELECT host, port FROM phantomdb.nodes WHERE node_name = $1", {spi::Text(node)});
      if (spi::RowCount() == 0)
        throw Error(sqlstate::kUndefinedObject, "node \"" + node + "\" does not exist", "",
                    "It was removed from the cluster after the step was added.");
      host = spi::GetText(0, 0);
      port = spi::GetInt32(0, 1);
    });
    NodeConnection connection = OpenAs(owner, host, port);
    connection.SendCommand(sql);
    connection.Drain();
  });
}

transactions::SagaPolicy Policy() {
  transactions::SagaPolicy policy;
  policy.max_attempts = saga_max_attempts;
  policy.backoff_base_us = int64_t{saga_retry_base_ms} * 1000;
  policy.backoff_cap_us = int64_t{saga_retry_max_ms} * 1000;
  return policy;
}

void ReportEnd(const Saga& saga) {
  const std::string label = "phantomdb: saga " + std::to_string(saga.id) + " (" + saga.name + ") ";
  switch (saga.state) {
    case transactions::SagaState::kCompleted:
      Report(LOG, (label + "completed").c_str());
      break;
    case transactions::SagaState::kCompensated:
      Report(LOG, (label + "compensated").c_str(), saga.error.c_str());
      break;
    case transactions::SagaState::kFailed:
      Report(WARNING, (label + "failed").c_str(), saga.error.c_str(),
             "Undo what its done steps did by hand; see phantom_saga_steps.");
      break;
    default:
      break;
  }
}

// Runs the current action of saga id and records the outcome.
void Advance(int64_t id) {
  Saga before;
  Oid owner = InvalidOid;
  spi::WithSpi([&] {
    std::optional<saga_catalog::StoredSaga> stored = saga_catalog::Load(id);
    if (stored) {
      before = std::move(stored->saga);
      owner = stored->owner;
    }
  });
  if (before.id == 0) return;  // gone meanwhile
  const Action action = transactions::NextAction(before, spi::NowUnixUs());
  if (action.kind != Action::kRunForward && action.kind != Action::kRunCompensation) return;

  const transactions::SagaStep& step = before.steps[action.step];
  const std::string& sql = action.kind == Action::kRunForward ? step.forward_sql : step.compensate_sql;
  const std::optional<Failure> failure =
      step.node ? RunRemote(before, owner, *step.node, sql) : RunLocal(before, owner, sql);

  Outcome outcome = Outcome::kOk;
  std::string error;
  if (failure) {
    outcome = transactions::IsTransientSqlstate(failure->sqlstate) ? Outcome::kTransient : Outcome::kPermanent;
    error = failure->message + " (SQLSTATE " + failure->sqlstate + ")";
  }
  Saga after = before;
  // The jitter spreads the retries of sagas that failed together (a node
  // that went away) so that they do not all hit it again at once.
  const double jitter = pg_prng_double(&pg_global_prng_state);
  transactions::ApplyOutcome(after, action, outcome, error, spi::NowUnixUs(), jitter, Policy());
  spi::WithSpi([&] { saga_catalog::Save(before, after); });
  if (after.state != before.state) ReportEnd(after);
}

// The bookkeeping of saga id failed (not its statement: that is an outcome).
// A saga the core finds inconsistent cannot go on: it fails, for an operator
// to look at. Anything else may pass (a lock, memory): try again later.
void Postpone(int64_t id, const Failure& failure) {
  const std::string message = "phantomdb: saga " + std::to_string(id) + ": " + failure.message;
  Report(WARNING, message.c_str());
  spi::WithSpi([&] {
    if (failure.sqlstate == sqlstate::kDataCorrupted)
      spi::Execute(
          "UPDATE phantomdb.sagas SET state = 'failed', error = $2, next_attempt_at = NULL, "
          "updated_at = pg_catalog.now() WHERE saga_id = $1",
          {spi::Int64(id), spi::Text(failure.message)});
    else
      spi::Execute("UPDATE phantomdb.sagas SET next_attempt_at = $2, updated_at = pg_catalog.now() WHERE saga_id = $1",
                   {spi::Int64(id), spi::TimestampUs(spi::NowUnixUs() + kPostponeUs)});
  });
}

}  // namespace

int RunOne() {
  const int64_t now_us = spi::NowUnixUs();
  std::optional<int64_t> due;
  int wait_ms = kIdleMs;
  spi::WithSpi([&] {
    // Least recently advanced first, so that sagas take turns. SKIP
    // LOCKED: a saga held by someone else is not worth waiting for.
    spi::Execute(
        "SELECT saga_id FROM phantomdb.sagas WHERE state IN ('running', 'compensating') "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= $1) "
        "ORDER BY updated_at, saga_id LIMIT 1 FOR UPDATE SKIP LOCKED",
        {spi::TimestampUs(now_us)});
    if (spi::RowCount() > 0) {
      due = spi::GetInt64(0, 0);
      return;
    }
    spi::Execute(
        "SELECT pg_catalog.min(next_attempt_at) FROM phantomdb.sagas WHERE state IN ('running', 'compensating')");
    if (!spi::IsNull(0, 0)) {
      const int64_t until_ms = (spi::GetTimestampUs(0, 0) - now_us) / 1000;
      wait_ms = static_cast<int>(std::clamp<int64_t>(until_ms, 0, kIdleMs));
    }
  });
  if (!due) return wait_ms;
  // A subtransaction around the whole action: an error in the bookkeeping
  // undoes a local step with it (exactly once still holds) and leaves the
  // transaction usable for postponing the saga.
  if (const std::optional<Failure> failure = InSubTransaction([&] { Advance(*due); })) Postpone(*due, *failure);
  return 0;
}

}  // namespace phantom::pg::saga_runner
