// The state machine of a saga: a sequence of statements, each run in its own
// transaction, possibly on another node, where a permanent failure is undone
// by running the compensations of the steps already done, last first.
//
// This is pure bookkeeping. The background worker persists a Saga in the
// catalog, asks NextAction what to run, runs that one statement in its own
// transaction, feeds the result to ApplyOutcome and persists the Saga again.
// Everything needed to continue (including when the next retry is due) lives
// in the struct, so a worker that reloads it after a restart carries on
// exactly where the previous one stopped. A statement whose outcome was not
// persisted before a crash runs again: steps run at least once.
//
// Time and randomness are inputs: times are microseconds on a clock that
// survives restarts (the glue uses the wall clock), and the retry jitter is
// drawn by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phantom::transactions {

enum class SagaState {
  kCreated,       // steps may be added; nothing runs until Start
  kRunning,       // forward steps run in order
  kCompensating,  // a forward step failed; compensations run in reverse order
  kCompleted,     // every forward step is done
  kCompensated,   // a forward step failed and every step before it is undone
  kFailed,        // a compensation failed permanently; an operator must step in
};

enum class StepStatus {
  kPending,      // forward statement not (successfully) run yet
  kDone,         // forward statement committed
  kFailed,       // forward statement failed permanently, so it had no effect
  kCompensated,  // undone, or nothing to undo
};

// The catalog and the phantom_sagas view store these lower-case names.
const char* StateName(SagaState state);
std::optional<SagaState> ParseState(std::string_view name);
const char* StepStatusName(StepStatus status);
std::optional<StepStatus> ParseStepStatus(std::string_view name);

// A step's index is its position in Saga::steps (0-based, as in the view and
// in error messages).
struct SagaStep {
  std::string forward_sql;
  std::string compensate_sql;       // blank: nothing to undo, nothing is run
  std::optional<std::string> node;  // nullopt: run locally
  StepStatus status = StepStatus::kPending;
  int attempts = 0;        // attempts of the current action: the forward, then the compensation
  std::string last_error;  // of the current action
};

struct Saga {
  int64_t id = 0;
  std::string name;
  SagaState state = SagaState::kCreated;
  std::vector<SagaStep> steps;
  int64_t next_attempt_us = 0;  // the current action is retried no earlier than this
  std::string error;            // why the saga compensated or failed
};

enum class Outcome {
  kOk,
  kTransient,  // may succeed if retried (connection lost, deadlock, ...)
  kPermanent,
};

// Whether a statement that failed with this SQLSTATE is worth retrying. A
// connection that could not be made at all is reported by the glue as class
// 08, so it is transient too.
bool IsTransientSqlstate(std::string_view sqlstate);

struct SagaPolicy {
  int max_attempts = 5;  // per action; a transient failure of the last one is permanent
  int64_t backoff_base_us = 500'000;
  int64_t backoff_cap_us = 30'000'000;
};

// The delay before attempt `attempt` (2 for the first retry):
// min(cap, base * 2^(attempt - 2)) scaled by 0.5 + jitter / 2, with jitter
// drawn by the caller from [0, 1) (values outside [0, 1] are clamped).
int64_t RetryDelayUs(int attempt, double jitter, const SagaPolicy& policy = {});

struct Action {
  enum Kind {
    kNone,             // not started, or finished (see Saga::state)
    kWait,             // backing off: ask again at not_before_us
    kRunForward,       // run steps[step].forward_sql
    kRunCompensation,  // run steps[step].compensate_sql
  };
  Kind kind = kNone;
  size_t step = 0;
  int64_t not_before_us = 0;
};

// What to do at now_us. Throws phantom::Error (XX001) when a reloaded saga
// contradicts itself, e.g. running with no pending step.
Action NextAction(const Saga& saga, int64_t now_us);

// Records the outcome of running `action` (as returned by NextAction) and
// moves the saga on. `error` describes a failure; jitter is as for
// RetryDelayUs. Throws phantom::Error (XX000) if `action` is not the saga's
// current action.
void ApplyOutcome(Saga& saga, const Action& action, Outcome outcome, const std::string& error, int64_t now_us,
                  double jitter, const SagaPolicy& policy = {});

// Appends a pending step; only before Start. Throws phantom::Error: 55000
// when the saga has started, 22023 when forward_sql is blank.
void AddStep(Saga& saga, SagaStep step);

// kCreated -> kRunning. Throws phantom::Error (55000) when the saga has
// already started or has no steps.
void Start(Saga& saga);

}  // namespace phantom::transactions
