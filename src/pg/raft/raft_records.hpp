// The payloads of raft inbox records that backends write (raft_shared.hpp):
// a proposal with the backend to wake, a node to hand leadership to, and
// the identity a node joins a cluster with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace phantom::pg {

struct ProposalRecord {
  int32_t procno = -1;  // the proposing backend's PGPROC number
  uint64_t id = 0;      // metadata::Proposal::id, to report a refusal before the log
  std::string bytes;    // metadata::EncodeProposal
};
std::string EncodeProposalRecord(const ProposalRecord& record);
ProposalRecord DecodeProposalRecord(std::string_view payload);

std::string EncodeNodeId(int32_t node_id);
int32_t DecodeNodeId(std::string_view payload);

struct JoinRecord {
  struct Peer {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
  };
  int32_t node_id = 0;
  std::string cluster_id;
  std::vector<Peer> peers;  // the nodes to answer until the catalog arrives
};
std::string EncodeJoinRecord(const JoinRecord& record);
JoinRecord DecodeJoinRecord(std::string_view payload);

}  // namespace phantom::pg
