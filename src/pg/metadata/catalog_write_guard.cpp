// Statement trigger on every phantomdb catalog table: writes are refused
// unless they come from applying a metadata command, so nothing — not even a
// superuser's stray UPDATE — changes the catalog outside the log.
#include "pg/guard.hpp"
#include "pg/metadata/metadata_log.hpp"

#include "core/common/error.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/rel.h"
}

namespace {

Datum CatalogWriteGuard(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw phantom::Error(phantom::sqlstate::kObjectNotInPrerequisiteState,
                         "phantomdb.catalog_write_guard() must be called as a trigger");
  auto* trigger_data = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!phantom::pg::ApplyingMetadataCommand()) {
    std::string table = std::string("phantomdb.") + RelationGetRelationName(trigger_data->tg_relation);
    throw phantom::Error(phantom::sqlstate::kInsufficientPrivilege,
                         "catalog table " + table + " can only be changed by metadata commands",
                         "The PhantomDB catalog changes only by applying commands from the metadata log.",
                         "Use the phantom_* functions, e.g. phantom_add_node or phantom_remove_node.");
  }
  return PointerGetDatum(nullptr);
}

}  // namespace

PHANTOM_FUNCTION(phantom_catalog_write_guard, CatalogWriteGuard)
