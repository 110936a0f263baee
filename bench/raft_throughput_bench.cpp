// Throughput and allocation benchmark for the Raft library (src/core/raft):
// an in-memory 3-member group driven on one thread. Each iteration proposes
// a batch of small payloads on the leader and drives the Ready loop of all
// three members (persist to MemoryStorage, deliver messages in memory without
// the codec, apply committed entries, Advance) until the leader has seen the
// whole batch in committed_entries. See bench/README.md.
//
// This binary replaces the global operator new/delete with counting versions
// so that allocations per committed entry can be reported. The benchmark is
// single-threaded; see Bump() for why the counters are relaxed atomics.

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/raft/message_codec.hpp"
#include "core/raft/raft.hpp"
#include "core/raft/storage.hpp"
#include "core/raft/types.hpp"

// ---------------------------------------------------------------------------
// Counting allocator (this binary only).

namespace {

// Where the harness is when an allocation happens, so that the counters can
// say which step of the Ready loop allocates.
enum Phase : size_t {
  kPhaseOther = 0,  // setup, benchmark library, anything not attributed below
  kPhasePropose,    // Raft::Propose (includes copying the payload into the call)
  kPhaseReady,      // Raft::HasReady / GetReady / Advance
  kPhasePersist,    // MemoryStorage::Append / SetHardState (the harness's "disk")
  kPhaseStep,       // Raft::Step for every delivered message
  kPhaseApply,      // walking committed_entries and compacting storage
  kPhaseCount,
};

constexpr std::array<const char*, kPhaseCount> kPhaseNames = {"other", "propose", "ready", "persist", "step", "apply"};

struct AllocCounters {
  std::array<std::atomic<uint64_t>, kPhaseCount> allocs{};
  std::array<std::atomic<uint64_t>, kPhaseCount> bytes{};
};

AllocCounters g_counters;
std::atomic<size_t> g_phase{kPhaseOther};

// A relaxed load and store instead of fetch_add: no locked instruction on the
// allocation path (a lock prefix cost ~25% of the run time in a profile). The
// benchmark allocates on one thread only; the atomics merely keep a stray
// allocation elsewhere from being a data race (it could then lose a count).
void Bump(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

void* CountedAlloc(size_t size) {
  const size_t phase = g_phase.load(std::memory_order_relaxed);
  Bump(g_counters.allocs[phase], 1);
  Bump(g_counters.bytes[phase], size);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

struct AllocSnapshot {
  std::array<uint64_t, kPhaseCount> allocs{};
  std::array<uint64_t, kPhaseCount> bytes{};
};

AllocSnapshot TakeAllocSnapshot() {
  AllocSnapshot s;
  for (size_t i = 0; i < kPhaseCount; ++i) {
    s.allocs[i] = g_counters.allocs[i].load(std::memory_order_relaxed);
    s.bytes[i] = g_counters.bytes[i].load(std::memory_order_relaxed);
  }
  return s;
}

class PhaseScope {
 public:
  explicit PhaseScope(Phase phase) : saved_(g_phase.load(std::memory_order_relaxed)) {
    g_phase.store(phase, std::memory_order_relaxed);
  }
  ~PhaseScope() { g_phase.store(saved_, std::memory_order_relaxed); }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  size_t saved_;
};

}  // namespace

void* operator new(size_t size) { return CountedAlloc(size); }
void* operator new[](size_t size) { return CountedAlloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  try {
    return CountedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

// ---------------------------------------------------------------------------
// The in-memory group.

namespace {

namespace raft = phantom::raft;

constexpr size_t kMembers = 3;
constexpr raft::Index kKeepEntries = 8192;  // entries kept in MemoryStorage behind the applied index

struct Member {
  raft::MemoryStorage storage;
  std::unique_ptr<raft::Raft> node;
  raft::Index applied = 0;
};

class Group {
 public:
  Group() {
    raft::ConfState conf;
    for (size_t i = 0; i < kMembers; ++i) conf.voters.push_back(i + 1);
    for (size_t i = 0; i < kMembers; ++i) {
      members_[i].storage.SetConfState(conf);
      raft::Config config;
      config.id = i + 1;
      config.storage = &members_[i].storage;
      config.seed = i + 1;
      members_[i].node = std::make_unique<raft::Raft>(config);
    }
    inflight_.reserve(1024);
    delivering_.reserve(1024);
  }

  raft::Raft& Leader() { return *members_[0].node; }

  // Elects member 1 and waits for its no-op to commit.
  bool Elect() {
    members_[0].node->Campaign();
    for (int round = 0; round < 100; ++round) {
      Round();
      if (members_[0].node->Status().role == raft::Role::kLeader && inflight_.empty() && !AnyReady()) {
        return true;
      }
    }
    return false;
  }

  // Proposes `batch` copies of `payload` on the leader and drives the group
  // until the leader has applied all of them. Returns false on a stall.
  bool ProposeAndCommit(const std::string& payload, size_t batch) {
    {
      PhaseScope phase(kPhasePropose);
      for (size_t i = 0; i < batch; ++i) members_[0].node->Propose(payload);
    }
    const uint64_t target = leader_committed_ + batch;
    for (int round = 0; round < 64; ++round) {
      Round();
      if (leader_committed_ >= target) return true;
    }
    return false;
  }

  uint64_t LeaderCommitted() const { return leader_committed_; }

 private:
  bool AnyReady() const {
    for (const Member& m : members_) {
      if (m.node->HasReady()) return true;
    }
    return false;
  }

  // One pass: every member handles its Ready, then every message produced is
  // delivered (messages produced by those Step calls wait for the next pass).
  void Round() {
    for (size_t i = 0; i < kMembers; ++i) HandleReady(i);
    delivering_.swap(inflight_);
    {
      PhaseScope phase(kPhaseStep);
      for (const raft::Message& m : delivering_) members_[m.to - 1].node->Step(m);
    }
    delivering_.clear();
  }

  void HandleReady(size_t i) {
    Member& member = members_[i];
    raft::Raft& node = *member.node;
    raft::Ready ready;
    {
      PhaseScope phase(kPhaseReady);
      if (!node.HasReady()) return;
      ready = node.GetReady();
    }
    {
      // 1. Persist.
      PhaseScope phase(kPhasePersist);
      if (!ready.snapshot.Empty()) member.storage.ApplySnapshot(ready.snapshot);
      // Taken over rather than copied: the Ready needs them no more.
      member.storage.Append(std::move(ready.entries));
      if (ready.hard_state) member.storage.SetHardState(*ready.hard_state);
    }
    // 2. Send (queued; delivered after every member has handled its Ready).
    for (raft::Message& m : ready.messages) inflight_.push_back(std::move(m));
    {
      // 3. Apply.
      PhaseScope phase(kPhaseApply);
      for (const raft::Entry& entry : ready.committed_entries) {
        if (entry.type == raft::EntryType::kConfChange) {
          member.storage.SetConfState(node.ApplyConfChange(raft::DecodeConfChange(entry.data.view())));
        } else if (i == 0 && !entry.data.empty()) {
          ++leader_committed_;
        }
        benchmark::DoNotOptimize(entry.data.data());
        member.applied = entry.index;
      }
      if (member.applied >= member.storage.FirstIndex() + 2 * kKeepEntries) {
        member.storage.Compact(member.applied - kKeepEntries);
      }
    }
    {
      // 4. Advance (and the Ready's destruction, which frees its vectors).
      PhaseScope phase(kPhaseReady);
      node.Advance();
      ready = raft::Ready();
    }
  }

  std::array<Member, kMembers> members_;
  std::vector<raft::Message> inflight_;
  std::vector<raft::Message> delivering_;
  uint64_t leader_committed_ = 0;
};

void BM_RaftThroughput(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  const auto payload_size = static_cast<size_t>(state.range(1));
  const std::string payload(payload_size, 'x');

  Group group;
  if (!group.Elect()) {
    state.SkipWithError("no leader elected");
    return;
  }
  // Warm up: grow storage, the log and the harness's queues to their
  // steady-state capacity and go through a few compactions.
  for (int i = 0; i < 1024; ++i) {
    if (!group.ProposeAndCommit(payload, batch)) {
      state.SkipWithError("warm-up proposals did not commit");
      return;
    }
  }

  const uint64_t committed_before = group.LeaderCommitted();
  const AllocSnapshot before = TakeAllocSnapshot();
  for (auto _ : state) {
    if (!group.ProposeAndCommit(payload, batch)) {
      state.SkipWithError("proposals did not commit");
      return;
    }
  }
  const AllocSnapshot after = TakeAllocSnapshot();
  const uint64_t committed = group.LeaderCommitted() - committed_before;
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  if (committed == 0) return;

  const auto per_entry = [committed](uint64_t n) { return static_cast<double>(n) / static_cast<double>(committed); };
  uint64_t total_allocs = 0;
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < kPhaseCount; ++i) {
    const uint64_t allocs = after.allocs[i] - before.allocs[i];
    const uint64_t bytes = after.bytes[i] - before.bytes[i];
    total_allocs += allocs;
    total_bytes += bytes;
    state.counters[std::string("allocs_") + kPhaseNames[i]] = per_entry(allocs);
  }
  state.counters["allocs_per_entry"] = per_entry(total_allocs);
  state.counters["bytes_per_entry"] = per_entry(total_bytes);
}

BENCHMARK(BM_RaftThroughput)->ArgNames({"batch", "payload"})->Args({64, 16})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
