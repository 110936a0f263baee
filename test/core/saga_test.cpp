// Saga state machine: forward steps in order, retries with capped backoff,
// compensation of the done steps last first, and a saga that survives being
// persisted and reloaded at any point.
#include "core/transactions/saga.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "expect_error.hpp"

namespace phantom::transactions {
namespace {

// Just below 1: the largest jitter a caller can draw from [0, 1).
const double kMaxJitter = std::nextafter(1.0, 0.0);

SagaStep Step(std::string forward_sql, std::string compensate_sql = {}) {
  SagaStep step;
  step.forward_sql = std::move(forward_sql);
  step.compensate_sql = std::move(compensate_sql);
  return step;
}

Saga MakeSaga(std::vector<std::string> compensations) {
  Saga saga;
  saga.id = 7;
  saga.name = "transfer";
  for (size_t i = 0; i < compensations.size(); i++) AddStep(saga, Step("do " + std::to_string(i), compensations[i]));
  return saga;
}

Saga StartedSaga(size_t steps) {
  std::vector<std::string> compensations;
  for (size_t i = 0; i < steps; i++) compensations.push_back("undo " + std::to_string(i));
  Saga saga = MakeSaga(compensations);
  Start(saga);
  return saga;
}

// What the worker did, one entry per statement run: "forward 1", "undo 0".
std::string Describe(const Action& action) {
  switch (action.kind) {
    case Action::kRunForward:
      return "forward " + std::to_string(action.step);
    case Action::kRunCompensation:
      return "undo " + std::to_string(action.step);
    case Action::kWait:
      return "wait " + std::to_string(action.step);
    case Action::kNone:
      return "none";
  }
  return "?";
}

// A worker: runs whatever NextAction says, sleeping through waits, with
// outcomes from `outcome_of` ("forward 1" -> outcome per attempt); returns
// what it ran. `stop_after` runs at most that many statements.
struct Driver {
  std::function<Outcome(const std::string& what, int attempt)> outcome_of;
  int64_t now_us = 1'000'000;
  double jitter = 0.0;

  std::vector<std::string> Run(Saga& saga, size_t stop_after = SIZE_MAX) {
    std::vector<std::string> ran;
    while (ran.size() < stop_after) {
      Action action = NextAction(saga, now_us);
      if (action.kind == Action::kNone) break;
      if (action.kind == Action::kWait) {
        EXPECT_GT(action.not_before_us, now_us);
        now_us = action.not_before_us;
        continue;
      }
      const std::string what = Describe(action);
      ran.push_back(what);
      const int attempt = saga.steps[action.step].attempts + 1;
      const Outcome outcome = outcome_of ? outcome_of(what, attempt) : Outcome::kOk;
      ApplyOutcome(saga, action, outcome, outcome == Outcome::kOk ? "" : "boom " + what, now_us, jitter);
      now_us += 10;  // the statement takes a little while
    }
    return ran;
  }
};

std::vector<StepStatus> Statuses(const Saga& saga) {
  std::vector<StepStatus> statuses;
  for (const SagaStep& step : saga.steps) statuses.push_back(step.status);
  return statuses;
}

TEST(SagaTest, RunsForwardStepsInOrder) {
  Saga saga = StartedSaga(3);
  EXPECT_EQ(saga.state, SagaState::kRunning);
  Driver driver;
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"forward 0", "forward 1", "forward 2"}));
  EXPECT_EQ(saga.state, SagaState::kCompleted);
  EXPECT_EQ(Statuses(saga), (std::vector<StepStatus>(3, StepStatus::kDone)));
  EXPECT_EQ(saga.error, "");
  for (const SagaStep& step : saga.steps) EXPECT_EQ(step.attempts, 1);
}

TEST(SagaTest, NextActionNamesTheStatementToRun) {
  Saga saga = MakeSaga({"undo 0"});
  saga.steps[0].node = "node-b";
  Start(saga);
  const Action action = NextAction(saga, 5);
  EXPECT_EQ(action.kind, Action::kRunForward);
  EXPECT_EQ(action.step, 0u);
  EXPECT_EQ(saga.steps[action.step].forward_sql, "do 0");
  EXPECT_EQ(saga.steps[action.step].node, "node-b");
}

TEST(SagaTest, NothingToDoUnlessRunningOrCompensating) {
  Saga created = MakeSaga({"undo 0"});
  EXPECT_EQ(NextAction(created, 0).kind, Action::kNone);

  Saga completed = StartedSaga(1);
  Driver{}.Run(completed);
  ASSERT_EQ(completed.state, SagaState::kCompleted);
  EXPECT_EQ(NextAction(completed, 0).kind, Action::kNone);

  Saga compensated = StartedSaga(1);
  Driver{[](const std::string&, int) { return Outcome::kPermanent; }}.Run(compensated);
  ASSERT_EQ(compensated.state, SagaState::kCompensated);
  EXPECT_EQ(NextAction(compensated, 0).kind, Action::kNone);

  Saga failed = StartedSaga(2);
  Driver{[](const std::string& what, int) { return what == "forward 0" ? Outcome::kOk : Outcome::kPermanent; }}.Run(
      failed);
  ASSERT_EQ(failed.state, SagaState::kFailed);
  EXPECT_EQ(NextAction(failed, 0).kind, Action::kNone);
}

TEST(SagaTest, RetryDelayDoublesUpToTheCapScaledByJitter) {
  EXPECT_EQ(RetryDelayUs(1, 0.0), 0);
  EXPECT_EQ(RetryDelayUs(2, 0.0), 250'000);
  EXPECT_EQ(RetryDelayUs(2, kMaxJitter), 500'000);
  EXPECT_EQ(RetryDelayUs(2, 0.5), 375'000);
  EXPECT_EQ(RetryDelayUs(3, kMaxJitter), 1'000'000);
  EXPECT_EQ(RetryDelayUs(8, kMaxJitter), 30'000'000);  // 500 ms * 64 = 32 s, capped
  EXPECT_EQ(RetryDelayUs(8, 0.0), 15'000'000);
  EXPECT_EQ(RetryDelayUs(1'000'000, kMaxJitter), 30'000'000);
  // Out of range jitter is clamped rather than trusted.
  EXPECT_EQ(RetryDelayUs(2, -3.0), 250'000);
  EXPECT_EQ(RetryDelayUs(2, 7.0), 500'000);
  EXPECT_EQ(RetryDelayUs(2, std::nan("")), 250'000);
}

// Each transient failure schedules the next attempt; NextAction waits until
// then and runs the same step again.
void ExpectRetrySchedule(double jitter, const std::vector<int64_t>& delays) {
  SagaPolicy policy;
  policy.max_attempts = 10;
  Saga saga = StartedSaga(2);
  int64_t now = 1'000'000;
  for (size_t failure = 0; failure < delays.size(); failure++) {
    Action action = NextAction(saga, now);
    ASSERT_EQ(action.kind, Action::kRunForward);
    ASSERT_EQ(action.step, 0u);
    ApplyOutcome(saga, action, Outcome::kTransient, "could not connect", now, jitter, policy);
    EXPECT_EQ(saga.state, SagaState::kRunning);
    EXPECT_EQ(saga.steps[0].attempts, static_cast<int>(failure + 1));
    EXPECT_EQ(saga.steps[0].last_error, "could not connect");
    EXPECT_EQ(saga.next_attempt_us, now + delays[failure]) << "after failure " << failure + 1;
    action = NextAction(saga, now + delays[failure] - 1);
    EXPECT_EQ(action.kind, Action::kWait);
    EXPECT_EQ(action.step, 0u);
    EXPECT_EQ(action.not_before_us, now + delays[failure]);
    now += delays[failure];
  }
  const Action action = NextAction(saga, now);
  ASSERT_EQ(action.kind, Action::kRunForward);
  ApplyOutcome(saga, action, Outcome::kOk, "", now, jitter, policy);
  EXPECT_EQ(saga.steps[0].status, StepStatus::kDone);
  EXPECT_EQ(saga.steps[0].attempts, static_cast<int>(delays.size() + 1));
  EXPECT_EQ(NextAction(saga, now).kind, Action::kRunForward);
  EXPECT_EQ(NextAction(saga, now).step, 1u);
}

TEST(SagaTest, TransientFailureIsRetriedWithGrowingBackoff) {
  ExpectRetrySchedule(0.0, {250'000, 500'000, 1'000'000, 2'000'000, 4'000'000, 8'000'000, 15'000'000, 15'000'000});
  ExpectRetrySchedule(kMaxJitter,
                      {500'000, 1'000'000, 2'000'000, 4'000'000, 8'000'000, 16'000'000, 30'000'000, 30'000'000});
}

TEST(SagaTest, TooManyTransientFailuresArePermanent) {
  Saga saga = StartedSaga(3);
  Driver driver{[](const std::string& what, int) { return what == "forward 2" ? Outcome::kTransient : Outcome::kOk; }};
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"forward 0", "forward 1", "forward 2", "forward 2", "forward 2",
                                                        "forward 2", "forward 2", "undo 1", "undo 0"}));
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  EXPECT_EQ(saga.steps[2].status, StepStatus::kFailed);
  EXPECT_EQ(saga.steps[2].attempts, 5);
  EXPECT_EQ(saga.error, "step 2 failed after 5 attempts: boom forward 2");
}

TEST(SagaTest, PermanentFailureCompensatesEarlierStepsLastFirst) {
  Saga saga = StartedSaga(5);
  Driver driver{[](const std::string& what, int) { return what == "forward 3" ? Outcome::kPermanent : Outcome::kOk; }};
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"forward 0", "forward 1", "forward 2", "forward 3", "undo 2",
                                                        "undo 1", "undo 0"}));
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  EXPECT_EQ(Statuses(saga),
            (std::vector<StepStatus>{StepStatus::kCompensated, StepStatus::kCompensated, StepStatus::kCompensated,
                                     StepStatus::kFailed, StepStatus::kPending}));
  EXPECT_EQ(saga.error, "step 3 failed: boom forward 3");
  EXPECT_EQ(saga.steps[3].last_error, "boom forward 3");
  EXPECT_EQ(saga.steps[3].attempts, 1);
}

TEST(SagaTest, FailureOfTheFirstStepCompensatesNothing) {
  Saga saga = StartedSaga(3);
  const Action action = NextAction(saga, 0);
  ApplyOutcome(saga, action, Outcome::kPermanent, "syntax error", 0, 0.0);
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  EXPECT_EQ(saga.error, "step 0 failed: syntax error");
  EXPECT_EQ(Statuses(saga), (std::vector<StepStatus>{StepStatus::kFailed, StepStatus::kPending, StepStatus::kPending}));
  EXPECT_EQ(NextAction(saga, 0).kind, Action::kNone);
}

TEST(SagaTest, EmptyCompensationsAreSkipped) {
  Saga saga = MakeSaga({"undo 0", "", "  \n", "undo 3", "", "undo 5"});
  Start(saga);
  Driver driver{[](const std::string& what, int) { return what == "forward 5" ? Outcome::kPermanent : Outcome::kOk; }};
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"forward 0", "forward 1", "forward 2", "forward 3", "forward 4",
                                                        "forward 5", "undo 3", "undo 0"}));
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  for (size_t i = 0; i < 5; i++) EXPECT_EQ(saga.steps[i].status, StepStatus::kCompensated) << i;
}

TEST(SagaTest, NothingToUndoAtAllFinishesCompensatedAtOnce) {
  Saga saga = MakeSaga({"", "", "undo 2"});
  Start(saga);
  Driver driver{[](const std::string& what, int) { return what == "forward 2" ? Outcome::kPermanent : Outcome::kOk; }};
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"forward 0", "forward 1", "forward 2"}));
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  EXPECT_EQ(Statuses(saga),
            (std::vector<StepStatus>{StepStatus::kCompensated, StepStatus::kCompensated, StepStatus::kFailed}));
}

TEST(SagaTest, CompensationIsRetriedThenSucceeds) {
  Saga saga = StartedSaga(3);
  Driver driver{[](const std::string& what, int attempt) {
    if (what == "forward 2") return Outcome::kPermanent;
    if (what == "undo 1" && attempt <= 2) return Outcome::kTransient;
    return Outcome::kOk;
  }};
  driver.jitter = kMaxJitter;
  EXPECT_EQ(driver.Run(saga, 5), (std::vector<std::string>{"forward 0", "forward 1", "forward 2", "undo 1", "undo 1"}));
  // The compensation counts its own attempts, from the first retry's backoff.
  EXPECT_EQ(saga.state, SagaState::kCompensating);
  EXPECT_EQ(saga.steps[1].attempts, 2);
  EXPECT_EQ(saga.steps[1].last_error, "boom undo 1");
  EXPECT_EQ(saga.next_attempt_us, driver.now_us - 10 + 1'000'000);
  EXPECT_EQ(driver.Run(saga), (std::vector<std::string>{"undo 1", "undo 0"}));
  EXPECT_EQ(saga.state, SagaState::kCompensated);
  EXPECT_EQ(saga.steps[1].attempts, 3);
  EXPECT_EQ(saga.error, "step 2 failed: boom forward 2");
}

TEST(SagaTest, PermanentCompensationFailureNeedsAnOperator) {
  Saga saga = StartedSaga(4);
  Driver driver{[](const std::string& what, int) {
    if (what == "forward 3") return Outcome::kPermanent;
    if (what == "undo 1") return Outcome::kPermanent;
    return Outcome::kOk;
  }};
  EXPECT_EQ(driver.Run(saga),
            (std::vector<std::string>{"forward 0", "forward 1", "forward 2", "forward 3", "undo 2", "undo 1"}));
  EXPECT_EQ(saga.state, SagaState::kFailed);
  EXPECT_EQ(saga.error, "compensation of step 1 failed: boom undo 1");
  EXPECT_EQ(Statuses(saga), (std::vector<StepStatus>{StepStatus::kDone, StepStatus::kDone, StepStatus::kCompensated,
                                                     StepStatus::kFailed}));
  EXPECT_EQ(saga.steps[1].last_error, "boom undo 1");
  EXPECT_EQ(saga.steps[3].last_error, "boom forward 3");
}

TEST(SagaTest, CompensationRetriesRunOutToo) {
  Saga saga = StartedSaga(2);
  Driver driver{[](const std::string& what, int) {
    return what == "forward 1" ? Outcome::kPermanent : what == "undo 0" ? Outcome::kTransient : Outcome::kOk;
  }};
  EXPECT_EQ(driver.Run(saga).size(), 2u + 5u);
  EXPECT_EQ(saga.state, SagaState::kFailed);
  EXPECT_EQ(saga.error, "compensation of step 0 failed after 5 attempts: boom undo 0");
}

// Persisting and reloading the saga after any statement (or in the middle
// of a backoff) changes nothing about what runs next.
TEST(SagaTest, ContinuesAfterARestartAsIfNothingHappened) {
  const auto outcome_of = [](const std::string& what, int attempt) {
    if (what == "forward 1" && attempt == 1) return Outcome::kTransient;
    if (what == "forward 3") return attempt <= 2 ? Outcome::kTransient : Outcome::kPermanent;
    if (what == "undo 1" && attempt <= 3) return Outcome::kTransient;
    return Outcome::kOk;
  };
  Saga reference_saga = MakeSaga({"undo 0", "undo 1", "", "undo 3"});
  Start(reference_saga);
  Driver reference{outcome_of};
  reference.jitter = 0.25;
  const std::vector<std::string> expected = reference.Run(reference_saga);
  ASSERT_EQ(expected,
            (std::vector<std::string>{"forward 0", "forward 1", "forward 1", "forward 2", "forward 3", "forward 3",
                                      "forward 3", "undo 1", "undo 1", "undo 1", "undo 1", "undo 0"}));

  for (size_t stop = 0; stop <= expected.size(); stop++) {
    Saga saga = MakeSaga({"undo 0", "undo 1", "", "undo 3"});
    Start(saga);
    Driver before{outcome_of};
    before.jitter = 0.25;
    std::vector<std::string> ran = before.Run(saga, stop);
    const Saga reloaded = saga;  // what the catalog holds
    // A new worker starts with no memory but the saga, and the same clock.
    Saga restarted = reloaded;
    Driver after{outcome_of};
    after.jitter = 0.25;
    after.now_us = before.now_us;
    const std::vector<std::string> rest = after.Run(restarted);
    ran.insert(ran.end(), rest.begin(), rest.end());
    EXPECT_EQ(ran, expected) << "restarted after " << stop << " statements";
    EXPECT_EQ(restarted.state, reference_saga.state);
    EXPECT_EQ(restarted.error, reference_saga.error);
    EXPECT_EQ(Statuses(restarted), Statuses(reference_saga));
    EXPECT_EQ(after.now_us, reference.now_us) << "same backoff schedule after restarting at " << stop;
  }
}

TEST(SagaTest, OutcomeOfAnotherActionIsRejected) {
  Saga saga = StartedSaga(2);
  ExpectError(
      [&] {
        ApplyOutcome(saga, Action{Action::kRunForward, 1, 0}, Outcome::kOk, "", 0, 0.0);
      },
      ExpectedError("XX000", "outcome of an action that is not the current one of saga 7 (running, step 1)"));
  ExpectError(
      [&] {
        ApplyOutcome(saga, Action{Action::kRunCompensation, 0, 0}, Outcome::kOk, "", 0, 0.0);
      },
      ExpectedError("XX000", "outcome of an action that is not the current one of saga 7 (running, step 0)"));
  ExpectError(
      [&] {
        ApplyOutcome(saga, Action{Action::kWait, 0, 5}, Outcome::kOk, "", 0, 0.0);
      },
      ExpectedError("XX000", "outcome of an action that is not the current one of saga 7 (running, step 0)"));
  EXPECT_EQ(Statuses(saga), (std::vector<StepStatus>{StepStatus::kPending, StepStatus::kPending}));
}

TEST(SagaTest, ContradictoryReloadedSagaIsReported) {
  Saga saga = StartedSaga(1);
  saga.steps[0].status = StepStatus::kDone;
  ExpectError([&] { NextAction(saga, 0); }, ExpectedError("XX001", "saga 7 is running but has no step to run"));
  saga.state = SagaState::kCompensating;
  saga.steps[0].status = StepStatus::kCompensated;
  ExpectError([&] { NextAction(saga, 0); },
              ExpectedError("XX001", "saga 7 is compensating but has no step to compensate"));
}

TEST(SagaTest, StepsAreAddedOnlyBeforeStart) {
  Saga saga = StartedSaga(1);
  ExpectError([&] { AddStep(saga, Step("select 1")); },
              ExpectedError("55000", "cannot add a step to saga 7: it is running", "",
                            "Steps can only be added before phantom_saga_start."));
  Driver{}.Run(saga);
  ExpectError([&] { AddStep(saga, Step("select 1")); },
              ExpectedError("55000", "cannot add a step to saga 7: it is completed", "",
                            "Steps can only be added before phantom_saga_start."));
  EXPECT_EQ(saga.steps.size(), 1u);
}

TEST(SagaTest, StepNeedsAForwardStatement) {
  Saga saga = MakeSaga({});
  for (const char* blank : {"", "  ", "\n\t"})
    ExpectError([&] { AddStep(saga, Step(blank, "undo")); },
                ExpectedError("22023", "the forward statement of a saga step must not be empty"));
  EXPECT_TRUE(saga.steps.empty());
}

TEST(SagaTest, AddedStepStartsPending) {
  Saga saga = MakeSaga({});
  AddStep(saga, SagaStep{.forward_sql = "insert",
                         .compensate_sql = "delete",
                         .node = "n2",
                         .status = StepStatus::kDone,
                         .attempts = 3,
                         .last_error = "stale"});
  ASSERT_EQ(saga.steps.size(), 1u);
  EXPECT_EQ(saga.steps[0].status, StepStatus::kPending);
  EXPECT_EQ(saga.steps[0].attempts, 0);
  EXPECT_EQ(saga.steps[0].last_error, "");
  EXPECT_EQ(saga.steps[0].node, "n2");
}

TEST(SagaTest, StartNeedsACreatedSagaWithSteps) {
  Saga empty = MakeSaga({});
  ExpectError([&] { Start(empty); }, ExpectedError("55000", "cannot start saga 7: it has no steps", "",
                                                   "Add steps with phantom_saga_add_step."));
  EXPECT_EQ(empty.state, SagaState::kCreated);

  Saga saga = StartedSaga(1);
  ExpectError([&] { Start(saga); }, ExpectedError("55000", "cannot start saga 7: it is running"));
  Driver{[](const std::string&, int) { return Outcome::kPermanent; }}.Run(saga);
  ExpectError([&] { Start(saga); }, ExpectedError("55000", "cannot start saga 7: it is compensated"));
}

TEST(SagaTest, TransientSqlstates) {
  for (const char* transient : {"08000", "08001", "08006", "08P01", "40001", "40P01", "55P03", "57P01", "57P02",
                                "57P03", "53000", "53100", "53200", "53300", "58000", "58030"})
    EXPECT_TRUE(IsTransientSqlstate(transient)) << transient;
  for (const char* permanent :
       {"", "08", "42601", "23505", "22012", "57014", "55000", "58P01", "XX000", "40002", "40000", "0800", "080000"})
    EXPECT_FALSE(IsTransientSqlstate(permanent)) << permanent;
}

TEST(SagaTest, NamesRoundTrip) {
  const std::map<SagaState, std::string> states{
      {SagaState::kCreated, "created"},           {SagaState::kRunning, "running"},
      {SagaState::kCompensating, "compensating"}, {SagaState::kCompleted, "completed"},
      {SagaState::kCompensated, "compensated"},   {SagaState::kFailed, "failed"},
  };
  for (const auto& [state, name] : states) {
    EXPECT_EQ(StateName(state), name);
    EXPECT_EQ(ParseState(name), state);
  }
  const std::map<StepStatus, std::string> statuses{
      {StepStatus::kPending, "pending"},
      {StepStatus::kDone, "done"},
      {StepStatus::kFailed, "failed"},
      {StepStatus::kCompensated, "compensated"},
  };
  for (const auto& [status, name] : statuses) {
    EXPECT_EQ(StepStatusName(status), name);
    EXPECT_EQ(ParseStepStatus(name), status);
  }
  EXPECT_EQ(ParseState("Running"), std::nullopt);
  EXPECT_EQ(ParseState(""), std::nullopt);
  EXPECT_EQ(ParseState("pending"), std::nullopt);
  EXPECT_EQ(ParseStepStatus("running"), std::nullopt);
}

}  // namespace
}  // namespace phantom::transactions
