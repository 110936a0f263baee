// phantom_cluster_health(): one row per check, so a monitoring query can
// select the failing ones. Read-only: it changes nothing, not even heartbeats.
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "core/metadata/node_health.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/init.hpp"
#include "pg/local_node.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/remote/node_identity.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

struct Check {
  std::string name;
  bool ok;
  std::string detail;
};

// Connects to host:port, asks the node who it is and lets `diagnose` judge
// the answer; an unreachable node is a failed check, not an error.
template <typename Diagnose>
Check Probe(std::string name, const std::string& host, int32_t port, const LocalNode& self, Diagnose diagnose) {
  Check check{std::move(name), false, ""};
  try {
    NodeConnection connection = NodeConnection::Open(host, port);
    const metadata::CandidateIdentity reported = FetchNodeIdentity(connection, self);
    const std::optional<std::string> problem = diagnose(reported);
    check.ok = !problem;
    check.detail =
        problem.value_or(metadata::NodeAddress(host, port) + " reachable, phantomdb " + reported.extension_version);
  } catch (const Error& error) {
    check.detail = error.Message() + (error.Detail().empty() ? "" : ": " + error.Detail());
  }
  return check;
}

std::vector<Check> RunChecks() {
  std::vector<Check> checks;
  checks.push_back({"shared_preload_libraries", LoadedAtStartup(),
                    LoadedAtStartup() ? "phantomdb is preloaded"
                                      : "phantomdb is not in shared_preload_libraries; add it and restart"});
  spi::WithSpi([&] {
    SpiCatalogStore store;
    const LocalNode self = DescribeLocalNode();
    const std::optional<metadata::ClusterRecord> cluster = store.GetCluster();
    const std::vector<metadata::NodeRecord> nodes = store.ListNodes();

    spi::Execute(
        "SELECT (SELECT applied_index FROM phantomdb.metadata_applied), "
        "(SELECT coalesce(max(log_index), 0) FROM phantomdb.metadata_log)");
    const int64_t applied = spi::GetInt64(0, 0), last = spi::GetInt64(0, 1);
    checks.push_back({"metadata log", applied == last,
                      "applied " + std::to_string(applied) + " of " + std::to_string(last) + " entries"});

    if (!cluster) {
      checks.push_back({"cluster", true, "not part of a cluster yet; phantom_add_node starts one"});
      return;
    }
    const std::string id = metadata::FormatClusterId(cluster->cluster_id);
    const std::string coordinator = metadata::NodeAddress(cluster->coordinator_host, cluster->coordinator_port);
    if (cluster->local_node_id == 0) {
      checks.push_back({"cluster", true, "member of cluster " + id + ", administered from " + coordinator});
      checks.push_back(Probe("coordinator " + coordinator, cluster->coordinator_host, cluster->coordinator_port, self,
                             [&](const auto& reported) { return metadata::DiagnoseCoordinator(*cluster, reported); }));
      return;
    }
    checks.push_back(
        {"cluster", true,
         "cluster " + id + " of " + std::to_string(nodes.size()) + " node(s), administered from this node"});
    for (const metadata::NodeRecord& node : nodes)
      checks.push_back(Probe("node " + node.name, node.host, node.port, self, [&](const auto& reported) {
        return metadata::DiagnoseNode(*cluster, node, reported, self.extension_version);
      }));
  });
  return checks;
}

Datum ClusterHealth(FunctionCallInfo fcinfo) {
  const std::vector<Check> checks = RunChecks();
  PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
  auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const Check& check : checks) {
    PgCall([&] {
      Datum values[3] = {CStringGetTextDatum(check.name.c_str()), BoolGetDatum(check.ok),
                         CStringGetTextDatum(check.detail.c_str())};
      bool nulls[3] = {false, false, false};
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_cluster_health, phantom::pg::ClusterHealth)
