// Saga state machine; see saga.hpp.
#include "core/transactions/saga.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/common/error.hpp"

#include "core/common/pure.hpp"

namespace phantom::transactions {
namespace {

constexpr std::array<std::pair<SagaState, const char*>, 6> kStateNames{{
    {SagaState::kCreated, "created"},
    {SagaState::kRunning, "running"},
    {SagaState::kCompensating, "compensating"},
    {SagaState::kCompleted, "completed"},
    {SagaState::kCompensated, "compensated"},
    {SagaState::kFailed, "failed"},
}};

constexpr std::array<std::pair<StepStatus, const char*>, 4> kStepStatusNames{{
    {StepStatus::kPending, "pending"},
    {StepStatus::kDone, "done"},
    {StepStatus::kFailed, "failed"},
    {StepStatus::kCompensated, "compensated"},
}};

// A statement of only whitespace does nothing, so it is treated as absent
// rather than sent to a node.
bool IsBlank(std::string_view sql) { return sql.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos; }

std::string SagaLabel(const Saga& saga) { return "saga " + std::to_string(saga.id); }

// Steps run strictly in order, so the first pending one is next.
std::optional<size_t> CurrentForward(const Saga& saga) {
  for (size_t i = 0; i < saga.steps.size(); i++)
    if (saga.steps[i].status == StepStatus::kPending) return i;
  return std::nullopt;
}

// The steps before the failed one are all done; the last is undone first.
std::optional<size_t> CurrentCompensation(const Saga& saga) {
  for (size_t i = saga.steps.size(); i-- > 0;)
    if (saga.steps[i].status == StepStatus::kDone) return i;
  return std::nullopt;
}

// Picks the next compensation to run, settling on the way the steps with
// nothing to undo, or finishes the saga. Kept in the state (not decided in
// NextAction) so that the current compensation is always one that runs.
void AdvanceCompensation(Saga& saga) {
  saga.next_attempt_us = 0;
  while (const auto index = CurrentCompensation(saga)) {
    SagaStep& step = saga.steps[*index];
    step.attempts = 0;
    step.last_error.clear();
    if (!IsBlank(step.compensate_sql)) {
      saga.state = SagaState::kCompensating;
      return;
    }
    step.status = StepStatus::kCompensated;
  }
  saga.state = SagaState::kCompensated;
}

// Counts the attempt; true when the failure ends the action (permanent, or
// transient with no attempt left), else schedules the retry.
bool CountFailure(Saga& saga, SagaStep& step, Outcome outcome, const std::string& error, int64_t now_us, double jitter,
                  const SagaPolicy& policy) {
  step.attempts++;
  step.last_error = error;
  if (outcome == Outcome::kPermanent || step.attempts >= policy.max_attempts) return true;
  saga.next_attempt_us = now_us + RetryDelayUs(step.attempts + 1, jitter, policy);
  return false;
}

std::string FailureText(const SagaStep& step, Outcome outcome, const std::string& error) {
  if (outcome == Outcome::kTransient) return " after " + std::to_string(step.attempts) + " attempts: " + error;
  return ": " + error;
}

[[noreturn]] void ThrowNotCurrent(const Saga& saga, const Action& action) {
  throw Error(sqlstate::kInternalError, "outcome of an action that is not the current one of " + SagaLabel(saga) +
                                            " (" + StateName(saga.state) + ", step " + std::to_string(action.step) +
                                            ")");
}

}  // namespace

const char* StateName(SagaState state) {
  for (const auto& [value, name] : kStateNames)
    if (value == state) return name;
  return "unknown";
}

std::optional<SagaState> ParseState(std::string_view name) {
  for (const auto& [value, known] : kStateNames)
    if (name == known) return value;
  return std::nullopt;
}

const char* StepStatusName(StepStatus status) {
  for (const auto& [value, name] : kStepStatusNames)
    if (value == status) return name;
  return "unknown";
}

std::optional<StepStatus> ParseStepStatus(std::string_view name) {
  for (const auto& [value, known] : kStepStatusNames)
    if (name == known) return value;
  return std::nullopt;
}

bool IsTransientSqlstate(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  // Class 08: the connection failed or could not be made; class 53: the node
  // ran out of memory, disk or connections for now.
  if (sqlstate.starts_with("08") || sqlstate.starts_with("53")) return true;
  for (const std::string_view transient : {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "58000", "58030"})
    if (sqlstate == transient) return true;
  return false;
}

int64_t RetryDelayUs(int attempt, double jitter, const SagaPolicy& policy) {
  if (attempt < 2) return 0;
  // Doubling stops at the cap, so a large attempt count cannot overflow.
  int64_t delay = std::min(policy.backoff_base_us, policy.backoff_cap_us);
  for (int k = 2; k < attempt && delay < policy.backoff_cap_us; k++) delay = std::min(policy.backoff_cap_us, delay * 2);
  if (!(jitter >= 0.0)) jitter = 0.0;  // also NaN
  jitter = std::min(jitter, 1.0);
  return std::llround(static_cast<double>(delay) * (0.5 + jitter / 2));
}

Action NextAction(const Saga& saga, int64_t now_us) {
  std::optional<size_t> step;
  Action::Kind kind = Action::kNone;
  if (saga.state == SagaState::kRunning) {
    step = CurrentForward(saga);
    kind = Action::kRunForward;
  } else if (saga.state == SagaState::kCompensating) {
    step = CurrentCompensation(saga);
    kind = Action::kRunCompensation;
  } else {
    return Action{};
  }
  if (!step)
    throw Error(sqlstate::kDataCorrupted, SagaLabel(saga) + " is " + StateName(saga.state) + " but has no step to " +
                                              (kind == Action::kRunForward ? "run" : "compensate"));
  if (now_us < saga.next_attempt_us) return Action{Action::kWait, *step, saga.next_attempt_us};
  return Action{kind, *step, 0};
}

void ApplyOutcome(Saga& saga, const Action& action, Outcome outcome, const std::string& error, int64_t now_us,
                  double jitter, const SagaPolicy& policy) {
  if (action.kind == Action::kRunForward) {
    if (saga.state != SagaState::kRunning || CurrentForward(saga) != action.step) ThrowNotCurrent(saga, action);
    SagaStep& step = saga.steps[action.step];
    if (outcome == Outcome::kOk) {
      step.attempts++;
      step.status = StepStatus::kDone;
      saga.next_attempt_us = 0;
      if (!CurrentForward(saga)) saga.state = SagaState::kCompleted;
      return;
    }
    if (!CountFailure(saga, step, outcome, error, now_us, jitter, policy)) return;
    // The statement's own transaction rolled back: this step has no effect
    // to undo, only the ones before it.
    step.status = StepStatus::kFailed;
    saga.error = "step " + std::to_string(action.step) + " failed" + FailureText(step, outcome, error);
    AdvanceCompensation(saga);
    return;
  }
  if (action.kind == Action::kRunCompensation) {
    if (saga.state != SagaState::kCompensating || CurrentCompensation(saga) != action.step)
      ThrowNotCurrent(saga, action);
    SagaStep& step = saga.steps[action.step];
    if (outcome == Outcome::kOk) {
      step.attempts++;
      step.status = StepStatus::kCompensated;
      AdvanceCompensation(saga);
      return;
    }
    if (!CountFailure(saga, step, outcome, error, now_us, jitter, policy)) return;
    // The step stays done: its effect is still there for the operator to
    // undo. The forward failure that started compensating is kept in the
    // step that failed.
    saga.state = SagaState::kFailed;
    saga.next_attempt_us = 0;
    saga.error = "compensation of step " + std::to_string(action.step) + " failed" + FailureText(step, outcome, error);
    return;
  }
  ThrowNotCurrent(saga, action);
}

void AddStep(Saga& saga, SagaStep step) {
  if (saga.state != SagaState::kCreated)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot add a step to " + SagaLabel(saga) + ": it is " + StateName(saga.state), "",
                "Steps can only be added before phantom_saga_start.");
  if (IsBlank(step.forward_sql))
    throw Error(sqlstate::kInvalidParameterValue, "the forward statement of a saga step must not be empty");
  step.status = StepStatus::kPending;
  step.attempts = 0;
  step.last_error.clear();
  saga.steps.push_back(std::move(step));
}

void Start(Saga& saga) {
  if (saga.state != SagaState::kCreated)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot start " + SagaLabel(saga) + ": it is " + StateName(saga.state));
  if (saga.steps.empty())
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "cannot start " + SagaLabel(saga) + ": it has no steps", "",
                "Add steps with phantom_saga_add_step.");
  saga.state = SagaState::kRunning;
  saga.next_attempt_us = 0;
  saga.error.clear();
}

}  // namespace phantom::transactions
