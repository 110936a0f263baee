// Choosing a colocation group; see colocation.hpp.
#include "core/sharding/colocation.hpp"

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::sharding {

namespace {

using metadata::ColocationRecord;

ColocationChoice NewGroup(const ColocationRequest& request, metadata::ColocationId next_colocation_id) {
  ColocationChoice choice;
  choice.new_group =
      ColocationRecord{next_colocation_id, request.shard_count, request.distribution_type, request.replication_factor};
  return choice;
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

[[noreturn]] void Mismatch(const ColocationRequest& request, const std::string& problem, const std::string& hint) {
  throw Error(sqlstate::kInvalidParameterValue,
              "cannot colocate with " + Quoted(request.colocate_with) + ": " + problem, "", hint);
}

ColocationChoice JoinTarget(const std::vector<ColocationRecord>& groups, const ColocationRequest& request) {
  const metadata::TableRecord* target = request.target;
  if (target == nullptr)
    throw Error(sqlstate::kUndefinedTable, "table " + Quoted(request.colocate_with) + " is not distributed", "",
                "Distribute it first with phantom_create_distributed_table, or use colocate_with => 'default' or "
                "'none'.");
  if (target->method == metadata::DistributionMethod::kReference)
    throw Error(sqlstate::kInvalidParameterValue,
                "cannot colocate with reference table " + Quoted(request.colocate_with), "",
                "Only hash-distributed tables form colocation groups; use colocate_with => 'default' or 'none'.");
  const ColocationRecord* group = nullptr;
  for (const ColocationRecord& candidate : groups)
    if (candidate.colocation_id == target->colocation_id) group = &candidate;
  // The catalog keeps a group for as long as a table is in it.
  if (group == nullptr)
    throw Error(sqlstate::kInternalError, "colocation group " + std::to_string(target->colocation_id) + " of table " +
                                              Quoted(request.colocate_with) + " is missing from the catalog");
  if (group->shard_count != request.shard_count)
    Mismatch(request,
             "it has " + std::to_string(group->shard_count) + " shards, not " + std::to_string(request.shard_count),
             "Use shard_count => " + std::to_string(group->shard_count) + ", or colocate_with => 'none'.");
  if (group->distribution_type != request.distribution_type)
    Mismatch(request,
             "its distribution column is of type " + group->distribution_type + ", not " + request.distribution_type,
             "Colocated tables need distribution columns of the same type; use colocate_with => 'none' for a new "
             "group.");
  if (group->replication_factor != request.replication_factor)
    Mismatch(
        request,
        "its replication factor is " + std::to_string(group->replication_factor) + ", not " +
            std::to_string(request.replication_factor),
        "Use replication_factor => " + std::to_string(group->replication_factor) + ", or colocate_with => 'none'.");
  ColocationChoice choice;
  choice.existing = group->colocation_id;
  return choice;
}

}  // namespace

ColocationChoice ChooseColocation(const std::vector<ColocationRecord>& groups, const ColocationRequest& request,
                                  metadata::ColocationId next_colocation_id) {
  if (request.colocate_with == "none") return NewGroup(request, next_colocation_id);
  if (request.colocate_with != "default") return JoinTarget(groups, request);
  // Groups are listed by id, but the lowest is chosen explicitly so the
  // choice does not rest on the store's ordering.
  const ColocationRecord* best = nullptr;
  for (const ColocationRecord& group : groups) {
    if (group.shard_count != request.shard_count || group.distribution_type != request.distribution_type ||
        group.replication_factor != request.replication_factor)
      continue;
    if (best == nullptr || group.colocation_id < best->colocation_id) best = &group;
  }
  if (best == nullptr) return NewGroup(request, next_colocation_id);
  ColocationChoice choice;
  choice.existing = best->colocation_id;
  return choice;
}

}  // namespace phantom::sharding
