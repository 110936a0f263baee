// Splitting a node's shards over the connections that read them: runs of
// neighbouring shards, as equal in length as they can be, so that each
// connection gets one statement and the work evens out.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace phantom::sharding {

// count items cut into min(count, parts) contiguous runs whose lengths
// differ by at most one, as [begin, end) index pairs in order; none for no
// items. parts 0 counts as 1.
std::vector<std::pair<size_t, size_t>> ContiguousRuns(size_t count, size_t parts);

}  // namespace phantom::sharding
