// Test-only fault injection at the named points of the commit protocol, so
// the crash-matrix tests (test/t/004_two_phase_crash.pl) can stop a
// coordinator exactly there.
//
// phantomdb.fault_injection = '<point>:<action>' (superuser only), where
// action is
//   error  raise an ERROR, as if the next step had failed; after the local
//          commit, where nothing may fail, a WARNING, and the COMMIT
//          PREPARED round is skipped (left to recovery);
//   pause  log "phantomdb: paused at fault point <point>" and wait until a
//          file named phantomdb_fault_release appears in the data directory
//          (or the postmaster dies, which ends the backend), then go on.
// Empty (the default) disables it; the check costs one string compare.
#pragma once

namespace phantom::pg::fault_injection {

// The points, in the order a two-phase commit passes them.
inline constexpr const char* kBeforePrepare = "before_prepare";
inline constexpr const char* kAfterSomePrepares = "after_some_prepares";
inline constexpr const char* kAfterPrepares = "after_prepares";
inline constexpr const char* kAfterCommitRecord = "after_commit_record";
inline constexpr const char* kAfterSomeCommits = "after_some_commits";

// Whether phantomdb.fault_injection names point (so the caller can make
// the point reachable: "some" prepares exist only when they are sent one
// node at a time).
bool Armed(const char* point) noexcept;

// Acts at point if armed. may_throw: false after the local commit; then an
// injected error is reported as a WARNING and At returns true.
bool At(const char* point, bool may_throw);

// Defines the setting; from DefineSettings.
void DefineSetting();

}  // namespace phantom::pg::fault_injection
