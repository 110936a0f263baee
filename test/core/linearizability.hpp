// A linearizability checker for histories of a key-value store, for tests
// that drive Raft-replicated state through faults and then ask whether what
// clients saw is consistent with a single register per key.
//
// Each key is an independent register (linearizability is compositional), so
// the history is split by key and each part searched separately: Wing & Gong
// backtracking over which pending operation takes effect next, with the
// (linearized set, register value) states already explored remembered so
// that no state is searched twice, as Porcupine does. A step budget bounds
// the search; running out reports kUnknown rather than hanging.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace phantom::lincheck {

// Return time of an operation whose client crashed or timed out: it may or
// may not have taken effect, at any time after its call.
inline constexpr int64_t kNeverReturned = std::numeric_limits<int64_t>::max();

enum class OpKind { kRead, kWrite };

struct Operation {
  int client = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  std::string value;  // written, or observed by the read ("" for a never-written key)
  int64_t call_time = 0;
  int64_t return_time = kNeverReturned;
};

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };

struct CheckResult {
  bool ok = false;  // verdict == kLinearizable
  Verdict verdict = Verdict::kUnknown;
  std::string explanation;  // for kNotLinearizable: the key and where every order fails
};

struct CheckOptions {
  // Search states explored over all keys before giving up with kUnknown.
  uint64_t max_steps = 1'000'000;
};

// Operation A precedes B in real time only if A returned strictly before B
// was called: intervals that touch at an instant are concurrent. A read that
// never returned observed nothing and is ignored. Throws std::invalid_argument
// for an operation that returns before it is called.
CheckResult CheckLinearizable(const std::vector<Operation>& history, const CheckOptions& options = {});

}  // namespace phantom::lincheck
