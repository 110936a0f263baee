// Internal functions one node calls on another (EXECUTE is revoked from
// PUBLIC): the node being added records the cluster it joined, the node being
// removed records that it left. Both go through the metadata log like every
// other catalog change.
#include "core/metadata/cluster_id.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/spi.hpp"

namespace phantom::pg {

namespace {

Datum JoinCluster(FunctionCallInfo fcinfo) {
  metadata::JoinCluster join;
  join.cluster_id = metadata::ParseClusterId(RequiredText(fcinfo, 0, "cluster_id"));
  join.coordinator_host = RequiredText(fcinfo, 1, "coordinator_host");
  join.coordinator_port = RequiredInt32(fcinfo, 2, "coordinator_port");
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    if (auto command = metadata::DecideJoinCluster(store.GetCluster(), store.ListNodes(), join))
      ProposeCommand(*command);
  });
  PG_RETURN_VOID();
}

Datum LeaveCluster(FunctionCallInfo fcinfo) {
  const metadata::ClusterId cluster_id = metadata::ParseClusterId(RequiredText(fcinfo, 0, "cluster_id"));
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    if (auto command = metadata::DecideLeaveCluster(store.GetCluster(), cluster_id)) ProposeCommand(*command);
  });
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_join_cluster, phantom::pg::JoinCluster)
PHANTOM_FUNCTION(phantom_leave_cluster, phantom::pg::LeaveCluster)
