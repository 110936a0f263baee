// A deterministic simulation of a Raft group for raft_simulation_test.cpp:
// a tick clock, a lossy/duplicating/reordering/partitionable network whose
// messages cross the wire codec, crashes and restarts from each node's
// MemoryStorage ("disk"), membership changes and log compaction, all drawn
// from one seeded PRNG, so a seed replays exactly. Each node applies committed
// entries to a key-value state machine; clients write through Propose and read
// through ReadIndex, and every operation lands in a lincheck history. Safety
// invariants are checked after every step; the first violation ends the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "linearizability.hpp"

namespace phantom::raft::sim {

struct SimOptions {
  uint64_t seed = 1;
  int voters = 3;
  int learners = 0;  // initial learners (one more spare id joins and leaves during the run)
  int ticks = 300;   // length of the faulty phase
  int election_tick = 10;
  int fault_percent = 8;  // chance per tick of a schedule event (partition, crash, membership change, ...)
  // Broken on purpose: reads are served at once from the asked node's local
  // state, without ReadIndex. The linearizability check must catch it.
  bool broken_local_reads = false;
};

struct SimResult {
  bool ok = true;                  // no invariant violated and the final liveness check passed
  std::string failure;             // what went wrong, when !ok
  std::vector<std::string> trace;  // schedule events, "t=<tick> <event>", up to the end or failure
  std::vector<lincheck::Operation> history;
  std::vector<int> ticks_to_elect;  // after each crash of a leader under faults: ticks until a newer leader
  // After healing and the final commit, the leader is crashed once more (when
  // at least 3 voters remain): ticks until a newer leader, on a clean network.
  std::optional<int> clean_ticks_to_elect;
  int writes_acked = 0;
  int reads_acked = 0;
  int final_ticks = 0;  // ticks the healed cluster needed to elect and commit the final proposal
  // Coverage: how often the run exercised each mechanism.
  int snapshots_installed = 0;
  int conf_changes_applied = 0;
  int restarts = 0;
  int packets_decoded = 0;
};

SimResult RunSimulation(const SimOptions& options);

// The failure, seed and trace, for a test failure message.
std::string Describe(const SimOptions& options, const SimResult& result);

}  // namespace phantom::raft::sim
