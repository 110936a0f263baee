// Inbox record payloads; see raft_records.hpp.
#include "pg/raft/raft_records.hpp"

#include "core/common/byte_buffer.hpp"

namespace phantom::pg {

std::string EncodeProposalRecord(const ProposalRecord& record) {
  ByteWriter out;
  out.PutI32(record.procno);
  out.PutU64(record.id);
  out.PutString(record.bytes);
  return out.Take();
}

ProposalRecord DecodeProposalRecord(std::string_view payload) {
  ByteReader in(payload, "raft proposal record");
  ProposalRecord record;
  record.procno = in.GetI32();
  record.id = in.GetU64();
  record.bytes = in.GetString();
  in.ExpectEnd();
  return record;
}

std::string EncodeNodeId(int32_t node_id) {
  ByteWriter out;
  out.PutI32(node_id);
  return out.Take();
}

int32_t DecodeNodeId(std::string_view payload) {
  ByteReader in(payload, "raft node id record");
  const int32_t node_id = in.GetI32();
  in.ExpectEnd();
  return node_id;
}

std::string EncodeJoinRecord(const JoinRecord& record) {
  ByteWriter out;
  out.PutI32(record.node_id);
  out.PutString(record.cluster_id);
  out.PutU32(static_cast<uint32_t>(record.peers.size()));
  for (const JoinRecord::Peer& peer : record.peers) {
    out.PutI32(peer.node_id);
    out.PutString(peer.host);
    out.PutI32(peer.port);
  }
  return out.Take();
}

JoinRecord DecodeJoinRecord(std::string_view payload) {
  ByteReader in(payload, "raft join record");
  JoinRecord record;
  record.node_id = in.GetI32();
  record.cluster_id = in.GetString();
  const uint32_t count = in.GetU32();
  for (uint32_t i = 0; i < count; i++) {
    JoinRecord::Peer peer;
    peer.node_id = in.GetI32();
    peer.host = in.GetString();
    peer.port = in.GetI32();
    record.peers.push_back(std::move(peer));
  }
  in.ExpectEnd();
  return record;
}

}  // namespace phantom::pg
