// Sagas in the catalog (phantomdb.sagas, phantomdb.saga_steps): reading one
// into the core's Saga and writing back what changed. Shared by the SQL
// functions (saga_functions.cpp) and the worker (saga_runner.cpp).
//
// The tables are closed to every role but the extension's (sql/phantomdb--0.1.sql
// says why), so callers that are not the worker wrap these in AsExtension.
#pragma once

#include <cstdint>
#include <optional>

#include "core/transactions/saga.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "catalog/pg_authid.h"
}

namespace phantom::pg::saga_catalog {

struct StoredSaga {
  transactions::Saga saga;
  Oid owner = InvalidOid;  // the role the steps run as
};

// Saga `id` with its steps, its row locked FOR UPDATE (so concurrent
// phantom_saga_add_step calls number their steps one after the other);
// nullopt when there is none. Throws XX001 when the rows contradict
// themselves (an unknown state, a gap in the step indexes). Call connected
// to SPI.
std::optional<StoredSaga> Load(int64_t id);

// Writes `after` over `before` (as loaded): the saga's row, then each step
// that changed or is new. Call connected to SPI.
void Save(const transactions::Saga& before, const transactions::Saga& after);

// Runs fn as the bootstrap superuser, restoring the caller afterwards, also
// when fn throws.
template <typename Fn>
void AsExtension(Fn&& fn) {
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  try {
    fn();
  } catch (...) {
    SetUserIdAndSecContext(saved_user, saved_context);
    throw;
  }
  SetUserIdAndSecContext(saved_user, saved_context);
}

}  // namespace phantom::pg::saga_catalog
