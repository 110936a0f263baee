// See allocation_probe.hpp. Only the plain operator new/delete are replaced;
// the array forms call them by default.
#include "allocation_probe.hpp"

#include <cstdlib>
#include <new>

namespace {

thread_local int active_probes = 0;
thread_local size_t largest_bytes = 0;

}  // namespace

namespace phantom {

AllocationProbe::AllocationProbe() {
  active_probes++;
  largest_bytes = 0;
}

AllocationProbe::~AllocationProbe() { active_probes--; }

size_t AllocationProbe::LargestBytes() const { return largest_bytes; }

}  // namespace phantom

void* operator new(size_t size) {
  if (active_probes > 0 && size > largest_bytes) largest_bytes = size;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}

void operator delete(void* memory) noexcept { std::free(memory); }

void operator delete(void* memory, size_t) noexcept { std::free(memory); }
