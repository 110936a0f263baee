// Contiguous runs; see contiguous_runs.hpp.
#include "core/sharding/contiguous_runs.hpp"

#include <algorithm>

namespace phantom::sharding {

std::vector<std::pair<size_t, size_t>> ContiguousRuns(size_t count, size_t parts) {
  std::vector<std::pair<size_t, size_t>> runs;
  if (count == 0) return runs;
  parts = std::clamp<size_t>(parts, 1, count);
  for (size_t part = 0; part < parts; part++) runs.emplace_back(part * count / parts, (part + 1) * count / parts);
  return runs;
}

}  // namespace phantom::sharding
