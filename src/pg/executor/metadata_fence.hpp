// Fencing stale metadata (docs/raft.md, "Fencing"): a shard command another
// node sends carries the metadata log index that node routed it by
// (phantomdb.metadata_index on the node session). Before it runs here, this
// node catches up to that index, and it refuses (40001, retryable) to touch a
// shard table of a distributed table whose shard is not placed on this node
// at that index: a node with stale metadata cannot write to a shard that
// moved away or was dropped.
#pragma once

namespace phantom::pg::metadata_fence {

// From _PG_init: an ExecutorStart hook, active only on node sessions.
void InstallHook();

}  // namespace phantom::pg::metadata_fence
