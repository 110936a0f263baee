// Guarding shells on member nodes; see member_shells.hpp.
#include "pg/metadata/member_shells.hpp"

#include <string>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace phantom::pg {

namespace {

constexpr const char* kTriggerName = "phantomdb_shell_guard";

[[noreturn]] void Refuse(const std::string& table) {
  const std::string coordinator = metadata_cache::CoordinatorAddress();
  throw Error(sqlstate::kFeatureNotSupported,
              "table \"" + table + "\" is a distributed table administered from node " + coordinator, "",
              "Until the metadata reaches every node, query and change distributed tables on " + coordinator + ".");
}

bool HasGuard(Oid relid) {
  return PgCall([&] {
    Relation relation = RelationIdGetRelation(relid);
    if (relation == nullptr) return false;
    bool guarded = false;
    if (relation->trigdesc != nullptr)
      for (int i = 0; i < relation->trigdesc->numtriggers; i++)
        if (strcmp(relation->trigdesc->triggers[i].tgname, kTriggerName) == 0) guarded = true;
    RelationClose(relation);
    return guarded;
  });
}

bool FindGuarded(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_RELATION) {
      // The walker runs inside Postgres's C code: remember, throw later.
      try {
        if (HasGuard(rte->relid)) {
          *static_cast<Oid*>(context) = rte->relid;
          return true;
        }
      } catch (...) {
        return false;
      }
    }
    return false;
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(FindGuarded), context, QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(FindGuarded), context);
}

Datum ShellGuard(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "phantomdb.shell_guard() must be called as a trigger");
  auto* trigger_data = reinterpret_cast<TriggerData*>(fcinfo->context);
  metadata_cache::EnsureLoaded();
  Refuse(RelationGetRelationName(trigger_data->tg_relation));
}

}  // namespace

std::string ShellGuardTriggerSql(const std::string& table) {
  return std::string("CREATE TRIGGER ") + kTriggerName + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + table +
         " FOR EACH STATEMENT EXECUTE FUNCTION phantomdb.shell_guard()";
}

void RefuseMemberShells(Query* query) {
  if (!metadata_cache::IsMember()) return;
  Oid guarded = InvalidOid;
  PgCall([&] { query_tree_walker(query, Walker(FindGuarded), &guarded, QTW_EXAMINE_RTES_BEFORE); });
  if (!OidIsValid(guarded)) return;
  const char* name = PgCall([&] { return get_rel_name(guarded); });
  Refuse(name ? name : std::to_string(guarded));
}

void RefuseMemberShell(const RangeVar* table) {
  if (!metadata_cache::IsMember()) return;
  const Oid relid = PgCall([&] { return RangeVarGetRelid(table, NoLock, true); });
  if (OidIsValid(relid) && HasGuard(relid)) Refuse(table->relname);
}

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_shell_guard, phantom::pg::ShellGuard)
