// phantom_cluster_health(): one row per check, so a monitoring query can
// select the failing ones: quorum and leader, the metadata log, lagging
// learners, failed nodes, and a probe of every node. Read-only.
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "core/metadata/node_health.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/init.hpp"
#include "pg/local_node.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/remote/node_identity.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "miscadmin.h"
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

std::string IdList(const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) text += (text.empty() ? "" : ", ") + std::to_string(id);
  return text.empty() ? "none" : text;
}

// What this node's raft worker knows: quorum and leader, how far the catalog
// is behind the log, and (on the leader) which learners lag.
void RaftChecks(std::vector<Check>& checks, metadata::NodeId local) {
  const raft_shared::Status status = raft_shared::ReadStatus(MyDatabaseId);
  // A worker of an earlier incarnation of the extension is about to restart.
  if (!status.running || status.node_id != local) {
    checks.push_back({"raft worker", false, "not running for this cluster yet; see the server log"});
    return;
  }
  std::vector<int32_t> voters;
  for (const raft_shared::PeerStatus& peer : status.peers)
    if (peer.voter) voters.push_back(peer.node_id);
  checks.push_back({"quorum", status.leader != 0,
                    status.leader != 0 ? "leader is node " + std::to_string(status.leader) + " (term " +
                                             std::to_string(status.term) + "), voters: " + IdList(voters)
                                       : "no leader: fewer than a majority of the voters (" + IdList(voters) +
                                             ") are reachable; metadata changes wait"});
  checks.push_back(
      {"metadata log", status.applied >= status.commit,
       "applied " + std::to_string(status.applied) + " of " + std::to_string(status.commit) + " committed entries"});
  if (status.leader == status.node_id) {
    std::vector<int32_t> lagging;
    for (const raft_shared::PeerStatus& peer : status.peers)
      if (!peer.voter && peer.match < status.commit) lagging.push_back(peer.node_id);
    checks.push_back({"learners", lagging.empty(),
                      lagging.empty() ? "every learner has the whole log" : "lagging learners: " + IdList(lagging)});
  }
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
    if (!cluster) {
      checks.push_back({"cluster", true, "not part of a cluster yet; phantom_add_node starts one"});
      return;
    }
    const metadata::NodeId local = metadata_cache::LocalNodeId();
    if (LoadedAtStartup()) RaftChecks(checks, local);
    checks.push_back({"cluster", true,
                      "cluster " + metadata::FormatClusterId(cluster->cluster_id) + " of " +
                          std::to_string(nodes.size()) + " node(s); this is node " + std::to_string(local)});
    std::vector<int32_t> failed;
    for (const metadata::NodeRecord& node : nodes)
      if (node.state == metadata::NodeState::kFailed || node.state == metadata::NodeState::kSuspect)
        failed.push_back(node.node_id);
    checks.push_back({"failed nodes", failed.empty(),
                      failed.empty() ? "none" : "suspect or failed: " + IdList(failed) + " (see phantom_nodes)"});
    for (const metadata::NodeRecord& node : nodes)
      checks.push_back(Probe("node " + node.name, node.host, node.port, self, [&](const auto& reported) {
        return metadata::DiagnoseNode(*cluster, node, reported, self.extension_version, local);
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
