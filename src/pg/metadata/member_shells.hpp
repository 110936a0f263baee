// Shells on the nodes that do not administer the cluster. Until the
// metadata is replicated (the Raft issue) such a node cannot tell a shell
// from a table of its own, and a query on it would silently read the empty
// shell. So the administering node gives each shell it creates there a
// guard trigger (refusing writes), and the planner there refuses queries on
// a table that carries it, naming the node to use instead.
#pragma once

#include <string>

#include "pg/postgres.hpp"

namespace phantom::pg {

// The trigger the shell DDL adds (shard_ddl.cpp); `table` is qualified.
std::string ShellGuardTriggerSql(const std::string& table);

// Throws 0A000 when the query reads or writes a shell of a table that
// another node administers. Cheap unless this node is a cluster member.
void RefuseMemberShells(Query* query);
// The same for the table a utility statement names (COPY ... TO).
void RefuseMemberShell(const RangeVar* table);

}  // namespace phantom::pg
