// Fault injection for the commit protocol; see fault_injection.hpp.
#include "pg/transactions/fault_injection.hpp"

#include <unistd.h>

#include <cstring>
#include <string>

#include "core/common/error.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
}

namespace phantom::pg::fault_injection {

namespace {

char* setting = nullptr;
constexpr const char* kReleaseFile = "phantomdb_fault_release";

const char* ActionFor(const char* point) noexcept {
  if (setting == nullptr || setting[0] == '\0') return nullptr;
  const size_t length = strlen(point);
  if (strncmp(setting, point, length) != 0 || setting[length] != ':') return nullptr;
  return setting + length + 1;
}

bool CheckSetting(char** value, void**, GucSource) {
  if (*value == nullptr || **value == '\0') return true;
  const char* colon = strchr(*value, ':');
  const std::string point = colon == nullptr ? std::string(*value) : std::string(*value, colon - *value);
  bool known = false;
  for (const char* name : {kBeforePrepare, kAfterSomePrepares, kAfterPrepares, kAfterCommitRecord, kAfterSomeCommits})
    known = known || point == name;
  if (!known || colon == nullptr || (strcmp(colon + 1, "error") != 0 && strcmp(colon + 1, "pause") != 0)) {
    GUC_check_errmsg("invalid phantomdb.fault_injection \"%s\"", *value);
    GUC_check_errhint(
        "Use <point>:<action> with point one of before_prepare, after_some_prepares, after_prepares, "
        "after_commit_record, after_some_commits and action error or pause.");
    return false;
  }
  return true;
}

void Pause(const char* point) {
  elog(LOG, "phantomdb: paused at fault point %s", point);
  // Interrupts may be held (after the local commit): only the release file
  // or the postmaster's death ends the wait.
  while (access(kReleaseFile, F_OK) != 0) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
  }
  elog(LOG, "phantomdb: released at fault point %s", point);
}

}  // namespace

bool Armed(const char* point) noexcept { return ActionFor(point) != nullptr; }

bool At(const char* point, bool may_throw) {
  const char* action = ActionFor(point);
  if (action == nullptr) return false;
  if (strcmp(action, "pause") == 0) {
    PgCall([&] { Pause(point); });
    return false;
  }
  const std::string message = std::string("injected fault at ") + point;
  if (may_throw) throw Error("XX000", message);
  Report(WARNING, message.c_str());
  return true;
}

void DefineSetting() {
  DefineCustomStringVariable("phantomdb.fault_injection", "Test only: fail or pause the commit protocol at a point.",
                             "<point>:<action>; see docs/testing.md.", &setting, "", PGC_SUSET, GUC_NOT_IN_SAMPLE,
                             CheckSetting, nullptr, nullptr);
}

}  // namespace phantom::pg::fault_injection
