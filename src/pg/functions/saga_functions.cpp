// phantom_saga_create, phantom_saga_add_step, phantom_saga_start: building
// a saga and handing it to the maintenance worker (saga_runner.hpp runs it;
// docs/sagas.md describes it for users).
//
// These are plain C functions, not SECURITY DEFINER: they need to know who
// calls them (the owner of a new saga, the owner check of the others). They
// write the catalog, which no other role may touch, as the bootstrap
// superuser (saga_catalog::AsExtension), after checking the caller owns the
// saga (or is a superuser) and that every argument is valid. Nothing is
// written before every check has passed. The SQL definitions pin
// search_path, so the catalog statements cannot pick up a caller's
// operators.
#include <optional>
#include <string>

#include "core/common/error.hpp"
#include "core/transactions/saga.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "pg/transactions/saga_catalog.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "parser/parser.h"
}

namespace phantom::pg {

namespace {

using saga_catalog::StoredSaga;

// Saga id, if the caller may change it. Call connected to SPI, as the
// extension; `caller` and `caller_is_superuser` are taken before switching.
StoredSaga LoadOwned(int64_t id, Oid caller, bool caller_is_superuser) {
  std::optional<StoredSaga> stored = saga_catalog::Load(id);
  if (!stored) throw Error(sqlstate::kUndefinedObject, "saga " + std::to_string(id) + " does not exist");
  if (stored->owner != caller && !caller_is_superuser)
    throw Error(sqlstate::kInsufficientPrivilege, "must be owner of saga " + std::to_string(id));
  return std::move(*stored);
}

enum class Parsed { kOk, kEmpty, kTransactionControl };

// Parses a step's statement here, so that a typo is reported now rather
// than when the worker gets to it (after earlier steps committed). Only the
// grammar is checked: names are resolved when the step runs, on its node.
void CheckStatement(const std::string& sql, const char* which) {
  Parsed parsed = Parsed::kOk;
  try {
    parsed = PgCall([&] {
      List* statements = raw_parser(sql.c_str(), RAW_PARSE_DEFAULT);
      if (list_length(statements) == 0) return Parsed::kEmpty;
      for (int i = 0; i < list_length(statements); i++)
        if (IsA(list_nth_node(RawStmt, statements, i)->stmt, TransactionStmt)) return Parsed::kTransactionControl;
      return Parsed::kOk;
    });
  } catch (const PgError& error) {
    throw Error(unpack_sql_state(error.Data()->sqlerrcode),
                std::string("the ") + which + " statement of a saga step is not valid SQL: " +
                    (error.Data()->message ? error.Data()->message : "error"));
  }
  // Only comments: the core took it for a statement.
  if (parsed == Parsed::kEmpty)
    throw Error(sqlstate::kInvalidParameterValue,
                std::string("the ") + which + " statement of a saga step must not be empty");
  // Each step is one transaction of its own: a COMMIT inside would split
  // it, and a remote BEGIN would leave its transaction open.
  if (parsed == Parsed::kTransactionControl)
    throw Error(sqlstate::kFeatureNotSupported,
                std::string("the ") + which + " statement of a saga step cannot control transactions", "",
                "Each step runs in a transaction of its own; split the work into several steps.");
}

void CheckNode(const std::string& node) {
  spi::Execute("SELECT 1 FROM phantomdb.nodes WHERE node_name = $1", {spi::Text(node)});
  if (spi::RowCount() == 0)
    throw Error(sqlstate::kUndefinedObject, "node \"" + node + "\" does not exist", "",
                "Check phantom_nodes for the names of the cluster's nodes; pass NULL to run the step on this node.");
}

Datum SagaCreate(FunctionCallInfo fcinfo) {
  const std::string name = RequiredText(fcinfo, 0, "name");
  const Oid owner = GetUserId();
  int64_t id = 0;
  saga_catalog::AsExtension([&] {
    spi::WithSpi([&] {
      spi::Execute(
          "INSERT INTO phantomdb.sagas (name, owner) VALUES ($1, $2::pg_catalog.oid::pg_catalog.regrole) "
          "RETURNING saga_id",
          {spi::Text(name), spi::Int64(owner)});
      id = spi::GetInt64(0, 0);
    });
  });
  PG_RETURN_INT64(id);
}

Datum SagaAddStep(FunctionCallInfo fcinfo) {
  const int64_t id = RequiredInt64(fcinfo, 0, "saga");
  transactions::SagaStep step;
  step.forward_sql = RequiredText(fcinfo, 1, "forward_sql");
  // NULL is refused rather than read as "nothing to undo": a forgotten
  // compensation should not pass silently.
  if (PG_ARGISNULL(2))
    throw Error(sqlstate::kNullValueNotAllowed, "compensate_sql must not be null", "",
                "Pass '' for a step with nothing to undo.");
  step.compensate_sql = RequiredText(fcinfo, 2, "compensate_sql");
  step.node = OptionalText(fcinfo, 3);
  const Oid caller = GetUserId();
  const bool caller_is_superuser = superuser();
  int32_t index = 0;
  saga_catalog::AsExtension([&] {
    spi::WithSpi([&] {
      const StoredSaga stored = LoadOwned(id, caller, caller_is_superuser);
      transactions::Saga after = stored.saga;
      const std::optional<std::string> node = step.node;
      transactions::AddStep(after, step);  // 55000 once started, 22023 for a blank statement
      CheckStatement(step.forward_sql, "forward");
      if (step.compensate_sql.find_first_not_of(" \t\r\n\f\v") != std::string::npos)
        CheckStatement(step.compensate_sql, "compensating");
      if (node) CheckNode(*node);
      saga_catalog::Save(stored.saga, after);
      index = static_cast<int32_t>(after.steps.size() - 1);
    });
  });
  PG_RETURN_INT32(index);
}

Datum SagaStart(FunctionCallInfo fcinfo) {
  const int64_t id = RequiredInt64(fcinfo, 0, "saga");
  const Oid caller = GetUserId();
  const bool caller_is_superuser = superuser();
  saga_catalog::AsExtension([&] {
    spi::WithSpi([&] {
      const StoredSaga stored = LoadOwned(id, caller, caller_is_superuser);
      transactions::Saga after = stored.saga;
      transactions::Start(after);  // 55000 once started or without steps
      saga_catalog::Save(stored.saga, after);
    });
  });
  // The worker looks for started sagas at least once a second.
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_saga_create, phantom::pg::SagaCreate)
PHANTOM_FUNCTION(phantom_saga_add_step, phantom::pg::SagaAddStep)
PHANTOM_FUNCTION(phantom_saga_start, phantom::pg::SagaStart)
