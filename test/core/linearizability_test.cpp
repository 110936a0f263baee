#include "linearizability.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace phantom::lincheck {
namespace {

constexpr int64_t kNever = kNeverReturned;

Operation Write(int client, std::string key, std::string value, int64_t call, int64_t ret) {
  return Operation{client, OpKind::kWrite, std::move(key), std::move(value), call, ret};
}

Operation Read(int client, std::string key, std::string value, int64_t call, int64_t ret) {
  return Operation{client, OpKind::kRead, std::move(key), std::move(value), call, ret};
}

void ExpectOk(const std::vector<Operation>& history) {
  CheckResult result = CheckLinearizable(history);
  EXPECT_TRUE(result.ok) << result.explanation;
  EXPECT_EQ(result.verdict, Verdict::kLinearizable);
}

void ExpectViolation(const std::vector<Operation>& history) {
  CheckResult result = CheckLinearizable(history);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable) << result.explanation;
  EXPECT_NE(result.explanation, "");
}

TEST(LinearizabilityTest, EmptyHistory) { ExpectOk({}); }

TEST(LinearizabilityTest, SequentialHistories) {
  ExpectOk({
      Read(1, "x", "", 0, 1),
      Write(1, "x", "a", 2, 3),
      Read(2, "x", "a", 4, 5),
      Write(2, "x", "b", 6, 7),
      Read(1, "x", "b", 8, 9),
      Write(1, "y", "c", 10, 11),
      Read(2, "x", "b", 12, 13),
      Read(2, "y", "c", 14, 15),
  });
  ExpectViolation({
      Write(1, "x", "a", 0, 1),
      Write(1, "x", "b", 2, 3),
      Read(1, "x", "a", 4, 5),
  });
}

TEST(LinearizabilityTest, ReadOfNeverWrittenKeySeesEmpty) {
  ExpectOk({Write(1, "x", "a", 0, 1), Read(2, "y", "", 2, 3)});
  ExpectViolation({Write(1, "x", "a", 0, 1), Read(2, "y", "a", 2, 3)});
}

TEST(LinearizabilityTest, ConcurrentWritesWithReadsSeeingEither) {
  for (const std::string first : {"a", "b"}) {
    const std::string second = first == "a" ? "b" : "a";
    SCOPED_TRACE(first);
    ExpectOk({
        Write(1, "x", "a", 0, 10),
        Write(2, "x", "b", 2, 12),
        Read(3, "x", first, 3, 4),   // during both writes
        Read(4, "x", second, 5, 6),  // the other one took effect later
        Read(3, "x", second, 13, 14),
    });
  }
  // After both writes returned, the register holds one of them, and every
  // later read agrees on which.
  ExpectOk(
      {Write(1, "x", "a", 0, 10), Write(2, "x", "b", 2, 12), Read(3, "x", "a", 13, 14), Read(4, "x", "a", 15, 16)});
  ExpectViolation(
      {Write(1, "x", "a", 0, 10), Write(2, "x", "b", 2, 12), Read(3, "x", "a", 13, 14), Read(4, "x", "b", 15, 16)});
}

TEST(LinearizabilityTest, StaleReadAfterCompletedWriteIsRejected) {
  const std::vector<Operation> history = {
      Write(1, "x", "a", 0, 1),
      Write(2, "x", "b", 2, 3),
      Read(3, "x", "a", 4, 5),
  };
  CheckResult result = CheckLinearizable(history);
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(result.explanation.find("key \"x\""), std::string::npos) << result.explanation;
  EXPECT_NE(result.explanation.find("#2 client 3 read -> \"a\" [4, 5]"), std::string::npos) << result.explanation;
}

TEST(LinearizabilityTest, ReadOfValueNeverWrittenIsRejected) {
  ExpectViolation({Write(1, "x", "a", 0, 1), Read(2, "x", "z", 2, 3)});
  ExpectViolation({Read(2, "x", "z", 0, 1)});
}

TEST(LinearizabilityTest, ReadOfWriteNotYetCalledIsRejected) {
  ExpectViolation({Read(1, "x", "a", 0, 1), Write(2, "x", "a", 2, 3)});
  // Touching intervals are concurrent, so this one may read it.
  ExpectOk({Read(1, "x", "a", 0, 2), Write(2, "x", "a", 2, 3)});
}

TEST(LinearizabilityTest, PendingWritesMayOrMayNotTakeEffect) {
  // Took effect (seen later, long after its call).
  ExpectOk({Write(1, "x", "a", 0, kNever), Read(2, "x", "a", 100, 101)});
  // Did not take effect (yet).
  ExpectOk({Write(1, "x", "a", 0, kNever), Read(2, "x", "", 100, 101)});
  // Took effect, then was overwritten.
  ExpectOk(
      {Write(1, "x", "a", 0, kNever), Read(2, "x", "a", 5, 6), Write(2, "x", "b", 7, 8), Read(3, "x", "b", 9, 10)});
  // Seen, then unseen again: once it took effect, only another write hides it.
  ExpectViolation({Write(1, "x", "a", 0, kNever), Read(2, "x", "a", 5, 6), Read(3, "x", "", 7, 8)});
  // Cannot take effect before its call.
  ExpectViolation({Read(2, "x", "a", 0, 1), Write(1, "x", "a", 5, kNever)});
  // A read that never returned observed nothing.
  ExpectOk({Read(1, "x", "garbage", 0, kNever), Write(2, "x", "a", 1, 2)});
}

TEST(LinearizabilityTest, ContradictoryOrdersAreRejected) {
  // Two writes overlap; one reader sees a then b, the other b then a.
  ExpectViolation({
      Write(1, "x", "a", 0, 10),
      Write(2, "x", "b", 0, 10),
      Read(3, "x", "a", 1, 2),
      Read(3, "x", "b", 3, 4),
      Read(4, "x", "b", 1, 2),
      Read(4, "x", "a", 3, 4),
  });
}

TEST(LinearizabilityTest, KeysAreIndependent) {
  // Each key alone is fine; the checker must not impose a cross-key order.
  ExpectOk({Write(1, "x", "a", 0, 10), Write(1, "y", "b", 0, 10), Read(2, "x", "a", 1, 2), Read(2, "y", "", 1, 2)});
  CheckResult result = CheckLinearizable({Write(1, "x", "a", 0, 1), Read(2, "y", "b", 2, 3)});
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(result.explanation.rfind("key \"y\": ", 0), 0u) << result.explanation;
}

TEST(LinearizabilityTest, MalformedOperationIsRefused) {
  EXPECT_THROW(CheckLinearizable({Write(1, "x", "a", 5, 4)}), std::invalid_argument);
}

// Many concurrent writes of distinct values and reads that see none of them
// make the search exponential; the budget turns that into kUnknown quickly.
TEST(LinearizabilityTest, BudgetReportsUnknown) {
  std::vector<Operation> history;
  for (int i = 0; i < 40; i++) history.push_back(Write(i, "x", "v" + std::to_string(i), 0, 100));
  for (int i = 0; i < 40; i++) history.push_back(Read(100 + i, "x", "v" + std::to_string(i), 0, 100));
  history.push_back(Read(200, "x", "never", 0, 100));
  auto start = std::chrono::steady_clock::now();
  CheckResult result = CheckLinearizable(history, CheckOptions{20000});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(result.verdict, Verdict::kUnknown) << result.explanation;
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.explanation.find("gave up after 20000"), std::string::npos) << result.explanation;
}

// Histories from a real sequential execution: each operation takes effect at
// a distinct instant, and its interval is stretched randomly around it so
// that neighbours overlap.
struct Generated {
  std::vector<Operation> history;
  std::vector<int64_t> effect_time;  // per operation
};

Generated Generate(std::mt19937& random, int operations, int keys, int clients) {
  Generated generated;
  std::map<std::string, std::string> store;
  int next_value = 0;
  for (int i = 0; i < operations; i++) {
    const int64_t effect = 10 * (i + 1);
    std::string key = "k" + std::to_string(random() % keys);
    int client = static_cast<int>(random() % clients);
    int64_t call = effect - static_cast<int64_t>(random() % 25);
    int64_t ret = effect + static_cast<int64_t>(random() % 25);
    if (random() % 2 == 0) {
      std::string value = "v" + std::to_string(next_value++);
      store[key] = value;
      // Some writes are never acknowledged, though they took effect.
      if (random() % 8 == 0) ret = kNever;
      generated.history.push_back(Write(client, key, value, call, ret));
    } else {
      generated.history.push_back(Read(client, key, store[key], call, ret));
    }
    generated.effect_time.push_back(effect);
  }
  return generated;
}

TEST(LinearizabilityTest, RandomRealExecutionsAreAccepted) {
  std::mt19937 random(20261127);
  for (int round = 0; round < 200; round++) {
    Generated generated = Generate(random, 40, 3, 5);
    CheckResult result = CheckLinearizable(generated.history);
    ASSERT_TRUE(result.ok) << "round " << round << ": " << result.explanation;
  }
}

// A completed read given the value of a write that was definitely overwritten
// before the read was called (W1 returned before W2 was called, W2 returned
// before the read was called; all values distinct) cannot be linearized.
TEST(LinearizabilityTest, RandomStaleReadsAreRejected) {
  std::mt19937 random(7);
  int constructed = 0;
  int perturbed = 0;
  int rejected = 0;
  for (int round = 0; round < 200; round++) {
    const std::vector<Operation> history = Generate(random, 40, 2, 5).history;
    std::vector<size_t> reads_with_stale;  // reads with an overwritten value to take
    bool constructed_here = false;
    for (size_t r = 0; r < history.size(); r++) {
      const Operation& read = history[r];
      if (read.kind != OpKind::kRead) continue;
      bool has_earlier = false;
      for (size_t w1 = 0; w1 < r; w1++) {
        const Operation& first = history[w1];
        if (first.kind != OpKind::kWrite || first.key != read.key || first.value == read.value) continue;
        has_earlier = true;
        for (size_t w2 = w1 + 1; w2 < r && !constructed_here; w2++) {
          const Operation& second = history[w2];
          if (second.kind != OpKind::kWrite || second.key != read.key || first.return_time >= second.call_time ||
              second.return_time >= read.call_time)
            continue;
          std::vector<Operation> stale = history;
          stale[r].value = first.value;
          ASSERT_EQ(CheckLinearizable(stale).verdict, Verdict::kNotLinearizable) << "round " << round << " read " << r;
          constructed_here = true;
          constructed++;
        }
      }
      if (has_earlier) reads_with_stale.push_back(r);
    }
    if (reads_with_stale.empty()) continue;
    // Any overwritten value for a random read: usually, not always, illegal,
    // since under overlap an older write may still be ordered last.
    size_t r = reads_with_stale[random() % reads_with_stale.size()];
    std::vector<std::string> earlier;
    for (size_t w = 0; w < r; w++)
      if (history[w].kind == OpKind::kWrite && history[w].key == history[r].key && history[w].value != history[r].value)
        earlier.push_back(history[w].value);
    std::vector<Operation> stale = history;
    stale[r].value = earlier[random() % earlier.size()];
    CheckResult result = CheckLinearizable(stale);
    ASSERT_NE(result.verdict, Verdict::kUnknown);
    perturbed++;
    if (!result.ok) rejected++;
  }
  EXPECT_GT(constructed, 100);
  EXPECT_GT(rejected * 2, perturbed) << rejected << " of " << perturbed;
}

}  // namespace
}  // namespace phantom::lincheck
