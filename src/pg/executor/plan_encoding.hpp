// What a CustomScan carries in custom_private must be a Postgres node tree
// (the plan cache copies plans): the encodings the scans' plans share.
#pragma once

#include <cstdint>
#include <vector>

#include "pg/planner/shard_query.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

// 64-bit ids travel as strings (Integer nodes hold only int).
Node* Int64Node(int64_t value);
int64_t Int64Of(Node* node);

List* IntList(const std::vector<int>& values);
std::vector<int> IntsOf(List* list);

// A shard query template: a list of its pieces and its table ids.
List* EncodeShardQuery(const ShardQueryTemplate& query);
ShardQueryTemplate DecodeShardQuery(List* encoded);

}  // namespace phantom::pg
