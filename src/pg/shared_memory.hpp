// The extension's pieces of shared memory: each module says how much it needs
// and how to initialize it; this installs the hooks that reserve and create
// them when the postmaster starts (and again after a crash restart).
#pragma once

#include <cstddef>

namespace phantom::pg::shared_memory {

struct Segment {
  const char* name;                  // unique ShmemInitStruct name
  size_t (*size)();                  // called once the server's settings are known
  void (*initialize)(void* memory);  // called once, in the postmaster, on zeroed memory
  void** pointer;                    // where every process finds it
};

// Registers a segment; from _PG_init, before InstallHooks.
void Add(const Segment& segment);

// From _PG_init when loaded through shared_preload_libraries.
void InstallHooks();

}  // namespace phantom::pg::shared_memory
