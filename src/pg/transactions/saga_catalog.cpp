// Sagas in the catalog; see saga_catalog.hpp.
#include "pg/transactions/saga_catalog.hpp"

#include <string>
#include <utility>

#include "core/common/error.hpp"
#include "pg/spi.hpp"

namespace phantom::pg::saga_catalog {

namespace {

using transactions::Saga;
using transactions::SagaStep;

[[noreturn]] void ThrowCorrupt(int64_t id, const std::string& what) {
  throw Error(sqlstate::kDataCorrupted, "saga " + std::to_string(id) + " is damaged: " + what, "",
              "Inspect phantomdb.sagas and phantomdb.saga_steps.");
}

bool SameStep(const SagaStep& a, const SagaStep& b) {
  return a.status == b.status && a.attempts == b.attempts && a.last_error == b.last_error;
}

}  // namespace

std::optional<StoredSaga> Load(int64_t id) {
  spi::Execute(
      "SELECT name, owner::pg_catalog.oid::pg_catalog.int8, state, COALESCE(error, ''), next_attempt_at "
      "FROM phantomdb.sagas WHERE saga_id = $1 FOR UPDATE",
      {spi::Int64(id)});
  if (spi::RowCount() == 0) return std::nullopt;
  StoredSaga stored;
  Saga& saga = stored.saga;
  saga.id = id;
  saga.name = spi::GetText(0, 0);
  stored.owner = static_cast<Oid>(spi::GetInt64(0, 1));
  const std::string state = spi::GetText(0, 2);
  const auto parsed = transactions::ParseState(state);
  if (!parsed) ThrowCorrupt(id, "unknown state \"" + state + "\"");
  saga.state = *parsed;
  saga.error = spi::GetText(0, 3);
  saga.next_attempt_us = spi::GetTimestampUs(0, 4);

  spi::Execute(
      "SELECT step_index, forward_sql, compensate_sql, node, status, attempts, COALESCE(last_error, '') "
      "FROM phantomdb.saga_steps WHERE saga_id = $1 ORDER BY step_index",
      {spi::Int64(id)});
  for (uint64_t row = 0; row < spi::RowCount(); row++) {
    if (spi::GetInt32(row, 0) != static_cast<int32_t>(row))
      ThrowCorrupt(id, "step " + std::to_string(row) + " is missing");
    SagaStep step;
    step.forward_sql = spi::GetText(row, 1);
    step.compensate_sql = spi::GetText(row, 2);
    if (!spi::IsNull(row, 3)) step.node = spi::GetText(row, 3);
    const std::string status = spi::GetText(row, 4);
    const auto parsed_status = transactions::ParseStepStatus(status);
    if (!parsed_status) ThrowCorrupt(id, "step " + std::to_string(row) + " has unknown status \"" + status + "\"");
    step.status = *parsed_status;
    step.attempts = spi::GetInt32(row, 5);
    step.last_error = spi::GetText(row, 6);
    saga.steps.push_back(std::move(step));
  }
  return stored;
}

void Save(const Saga& before, const Saga& after) {
  spi::Execute(
      "UPDATE phantomdb.sagas SET state = $2, error = NULLIF($3, ''), next_attempt_at = $4, "
      "updated_at = pg_catalog.now() WHERE saga_id = $1",
      {spi::Int64(after.id), spi::Text(transactions::StateName(after.state)), spi::Text(after.error),
       spi::TimestampUs(after.next_attempt_us)});
  for (size_t i = 0; i < after.steps.size(); i++) {
    const SagaStep& step = after.steps[i];
    if (i < before.steps.size()) {
      if (SameStep(before.steps[i], step)) continue;
      spi::Execute(
          "UPDATE phantomdb.saga_steps SET status = $3, attempts = $4, last_error = NULLIF($5, '') "
          "WHERE saga_id = $1 AND step_index = $2",
          {spi::Int64(after.id), spi::Int32(static_cast<int32_t>(i)),
           spi::Text(transactions::StepStatusName(step.status)), spi::Int32(step.attempts),
           spi::Text(step.last_error)});
    } else {
      spi::Execute(
          "INSERT INTO phantomdb.saga_steps (saga_id, step_index, forward_sql, compensate_sql, node, status, "
          "attempts, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''))",
          {spi::Int64(after.id), spi::Int32(static_cast<int32_t>(i)), spi::Text(step.forward_sql),
           spi::Text(step.compensate_sql), spi::OptionalText(step.node),
           spi::Text(transactions::StepStatusName(step.status)), spi::Int32(step.attempts),
           spi::Text(step.last_error)});
    }
  }
}

}  // namespace phantom::pg::saga_catalog
