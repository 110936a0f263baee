#include "core/raft/payload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/raft/types.hpp"

namespace phantom::raft {
namespace {

TEST(PayloadTest, EmptyByDefault) {
  const Payload p;
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.view(), "");
  EXPECT_NE(p.data(), nullptr);
  EXPECT_EQ(p, Payload(""));
  EXPECT_EQ(p, std::string());
}

TEST(PayloadTest, HoldsTheBytesIncludingNul) {
  const std::string bytes("a\0b", 3);
  const Payload p(bytes);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.view(), std::string_view(bytes));
  EXPECT_EQ(p.str(), bytes);
  EXPECT_EQ(p, bytes);
  EXPECT_FALSE(p == "a");  // a literal stops at its NUL
}

TEST(PayloadTest, CopiesShareTheBytes) {
  const Payload a("a payload longer than any small-string buffer");
  const Payload b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a, b);
  Payload c;
  c = b;
  EXPECT_EQ(c.data(), a.data());
}

TEST(PayloadTest, ComparesBytesNotBuffers) {
  const Payload a("same");
  const Payload b(std::string("same"));
  EXPECT_NE(a.data(), b.data());
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == Payload("other"));
  EXPECT_EQ(a, std::string_view("same"));
}

TEST(PayloadTest, OutlivesTheOriginal) {
  Payload copy;
  {
    Payload original(std::string(100, 'x'));
    copy = original;
    Payload moved = std::move(original);
    EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(moved.data(), copy.data());
  }
  EXPECT_EQ(copy, std::string(100, 'x'));
}

TEST(PayloadTest, SelfAssignmentKeepsTheBytes) {
  Payload p("keep");
  const Payload& alias = p;
  p = alias;
  EXPECT_EQ(p, "keep");
}

TEST(PayloadTest, EntriesCompareByPayloadBytes) {
  const Entry a{2, 3, EntryType::kNormal, "x"};
  Entry b = a;
  EXPECT_EQ(a, b);
  b.data = "y";
  EXPECT_NE(a, b);
  EXPECT_EQ(a.data, "x");
}

// Copies handed to other threads drop their references concurrently; the
// sanitizer builds turn a wrong reference count into a report.
TEST(PayloadTest, CopiesMayBeReleasedOnOtherThreads) {
  const Payload shared(std::string(64, 'z'));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = shared]() {
      for (int k = 0; k < 1000; ++k) {
        Payload again = copy;
        EXPECT_EQ(again.size(), 64u);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(shared, std::string(64, 'z'));
}

}  // namespace
}  // namespace phantom::raft
