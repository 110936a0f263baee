// The transaction duties of the maintenance worker; see transaction_duties.hpp.
#include "pg/transactions/transaction_duties.hpp"

#include <string>

#include "pg/guard.hpp"
#include "pg/settings.hpp"
#include "pg/transactions/deadlock_detector.hpp"
#include "pg/transactions/maintenance_worker.hpp"
#include "pg/transactions/prepared_recovery.hpp"
#include "pg/transactions/saga_runner.hpp"

namespace phantom::pg {

namespace {

int RecoverPrepared() {
  const prepared_recovery::Outcome outcome = prepared_recovery::Recover(false);
  if (outcome.resolved > 0) {
    const std::string message =
        "phantomdb: resolved " + std::to_string(outcome.resolved) + " in-doubt prepared transaction(s)";
    Report(LOG, message.c_str());
  }
  return prepared_recovery_interval_ms;
}

}  // namespace

void RegisterTransactionDuties() {
  maintenance_worker::AddDuty({"recover prepared transactions", RecoverPrepared});
  maintenance_worker::AddDuty({"run sagas", saga_runner::RunOne, maintenance_worker::WorkerKind::kSaga});
  maintenance_worker::AddDuty({"detect distributed deadlocks", deadlock_detector::RunPass});
}

}  // namespace phantom::pg
