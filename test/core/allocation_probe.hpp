// Records the largest single allocation made on this thread while a probe is
// alive, so a test can show that a decoder rejected a huge declared length
// without first trying to allocate it. Works by replacing the global
// operator new for the test binary (allocation_probe.cpp).
#pragma once

#include <cstddef>

namespace phantom {

class AllocationProbe {
 public:
  AllocationProbe();
  ~AllocationProbe();
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;

  size_t LargestBytes() const;
};

}  // namespace phantom
