// Shared memory reservation; see shared_memory.hpp.
#include "pg/shared_memory.hpp"

#include <cstring>
#include <vector>

#include "pg/postgres.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace phantom::pg::shared_memory {

namespace {

std::vector<Segment>& Segments() {
  static std::vector<Segment> segments;
  return segments;
}

shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

void Request() {
  if (previous_request != nullptr) previous_request();
  for (const Segment& segment : Segments()) RequestAddinShmemSpace(MAXALIGN(segment.size()));
}

void Startup() {
  if (previous_startup != nullptr) previous_startup();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  for (const Segment& segment : Segments()) {
    bool found = false;
    const size_t size = segment.size();
    void* memory = ShmemInitStruct(segment.name, size, &found);
    if (!found) {
      memset(memory, 0, size);
      segment.initialize(memory);
    }
    *segment.pointer = memory;
  }
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void Add(const Segment& segment) { Segments().push_back(segment); }

void InstallHooks() {
  previous_request = shmem_request_hook;
  shmem_request_hook = Request;
  previous_startup = shmem_startup_hook;
  shmem_startup_hook = Startup;
}

}  // namespace phantom::pg::shared_memory
