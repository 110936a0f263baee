// The raft worker's loop; see raft_worker.hpp.
#include "pg/raft/raft_worker.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/common/byte_buffer.hpp"
#include "core/common/error.hpp"
#include "core/metadata/failure_detector.hpp"
#include "core/metadata/proposal.hpp"
#include "core/metadata/voter_policy.hpp"
#include "core/raft/file_storage.hpp"
#include "core/raft/message_codec.hpp"
#include "core/raft/raft.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/planner/distributed_planner.hpp"
#include "pg/raft/catalog_applier.hpp"
#include "pg/raft/discovery.hpp"
#include "pg/raft/posix_file_system.hpp"
#include "pg/raft/raft_records.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/raft/raft_transport.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "storage/procsignal.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace phantom::pg::raft_worker {

namespace {

using catalog_applier::Identity;

int64_t NowUs() { return static_cast<int64_t>(GetCurrentTimestamp()) + 946684800LL * 1000000LL; }

// Runs fn in a transaction of its own with SPI connected and a snapshot.
template <typename Fn>
void InTransaction(const char* activity, Fn&& fn) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  pgstat_report_activity(STATE_RUNNING, activity);
  PgCall([] { PushActiveSnapshot(GetTransactionSnapshot()); });
  spi::WithSpi(fn);
  PgCall([] { PopActiveSnapshot(); });
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);
}

// The extension's oid; InvalidOid when it is not installed.
Oid ExtensionOid() {
  StartTransactionCommand();
  const Oid oid = get_extension_oid("phantomdb", true);
  CommitTransactionCommand();
  return oid;
}

const char* RoleName(raft::Role role) {
  switch (role) {
    case raft::Role::kLeader:
      return "leader";
    case raft::Role::kCandidate:
      return "candidate";
    case raft::Role::kPreCandidate:
      return "pre-candidate";
    case raft::Role::kFollower:
      return "follower";
  }
  return "follower";
}

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (!pg_strong_random(&seed, sizeof seed)) seed = static_cast<uint64_t>(MyProcPid) * 2654435761u ^ NowUs();
  return seed;
}

// One cluster membership of this node: the Raft member and what it needs.
class Member {
 public:
  Member(Oid database, Identity identity, bool founder, std::map<raft::NodeId, std::pair<std::string, int32_t>> peers,
         std::string user, std::string database_name);

  // One pass of the loop; returns false when the node left its cluster.
  bool Step();
  long WaitMs() const;
  void AddSockets(WaitEventSet* set) const { transport_.AddSockets(set); }
  int SocketCount() const { return transport_.SocketCount(); }

 private:
  void HandleRecords();
  void HandleReady();
  void ApplyCommitted(const std::vector<raft::Entry>& entries);
  void RefreshCatalogView();
  void LeaderDuties(int64_t now_us);
  void PlanVoters(int64_t now_us);
  void DetectFailures(int64_t now_us);
  void MaybeSnapshot();
  void Publish(int64_t now_us);
  raft::ConfState CurrentConf() const;
  void ProposeOwn(const metadata::Command& command);

  Oid database_;
  Identity identity_;
  PosixFileSystem fs_;
  std::unique_ptr<raft::FileStorage> storage_;
  std::unique_ptr<raft::Raft> raft_;
  RaftTransport transport_;
  std::map<raft::NodeId, std::pair<std::string, int32_t>> join_peers_;
  std::map<raft::NodeId, std::pair<std::string, int32_t>> addresses_;  // what the transport was last given
  bool left_ = false;
  // The founder's own seat must be in the log too: members that join later
  // replay the log (or a snapshot) and would not know it otherwise.
  bool record_founder_ = false;

  int64_t tick_us_ = 100'000;
  int64_t next_tick_us_ = 0;
  int64_t applied_ = 0;
  int64_t leader_since_us_ = 0;
  int64_t next_duties_us_ = 0;
  int64_t last_transfer_us_ = 0;
  std::map<raft::NodeId, int64_t> last_heard_us_;
  std::vector<metadata::NodeRecord> nodes_;
  std::set<metadata::NodeId> with_shards_;
  // Backends waiting for a proposal made here, by proposal id, so that its
  // outcome wakes them at once (bounded: a lost one waits for its poll).
  std::map<uint64_t, int> waiting_procnos_;
  // Node state changes proposed and not yet seen applied: node -> (to, when).
  std::map<metadata::NodeId, std::pair<metadata::NodeState, int64_t>> pending_states_;
};

Member::Member(Oid database, Identity identity, bool founder,
               std::map<raft::NodeId, std::pair<std::string, int32_t>> peers, std::string user,
               std::string database_name)
    : database_(database),
      identity_(std::move(identity)),
      fs_(std::string(DataDir) + "/phantomdb_raft/" + std::to_string(database)),
      transport_(identity_.cluster_id, std::move(user), std::move(database_name)),
      join_peers_(std::move(peers)) {
  storage_ = std::make_unique<raft::FileStorage>(raft::FileStorage::Open(fs_));
  if (founder && storage_->LastIndex() == 0 && storage_->InitialState().conf_state.voters.empty()) {
    raft::ConfState conf;
    conf.voters.push_back(static_cast<raft::NodeId>(identity_.node_id));
    storage_->SetConfState(conf);
    storage_->Sync();
  }
  InTransaction("phantomdb raft: starting", [&] {
    applied_ = catalog_applier::AppliedIndex();
    const raft::Snapshot snapshot = storage_->CurrentSnapshot();
    // The catalog commits after the log is durable: after a crash in
    // between, the snapshot the log starts with is newer than the catalog.
    if (!snapshot.Empty() && applied_ < static_cast<int64_t>(snapshot.meta.index)) {
      catalog_applier::RestoreCatalog(snapshot.data, static_cast<int64_t>(snapshot.meta.index));
      applied_ = static_cast<int64_t>(snapshot.meta.index);
    }
  });
  if (applied_ > static_cast<int64_t>(storage_->LastIndex()))
    throw Error(sqlstate::kDataCorrupted,
                "the catalog applied metadata log entry " + std::to_string(applied_) +
                    " but the node's Raft log ends at " + std::to_string(storage_->LastIndex()),
                "", "The Raft files under " + fs_.Directory() + " were lost or replaced.");
  raft::Config config;
  config.id = static_cast<raft::NodeId>(identity_.node_id);
  tick_us_ = static_cast<int64_t>(heartbeat_interval_ms) * 1000;
  config.election_tick = std::max(2, raft_election_timeout_ms / std::max(1, heartbeat_interval_ms));
  config.heartbeat_tick = 1;
  config.storage = storage_.get();
  config.pre_vote = true;
  config.check_quorum = true;
  config.seed = RandomSeed();
  config.applied = static_cast<raft::Index>(applied_);
  raft_ = std::make_unique<raft::Raft>(config);
  RefreshCatalogView();
  record_founder_ = founder;
  // A lone voter need not wait out an election timeout to lead.
  const raft::RaftStatus status = raft_->Status();
  if (status.voters.size() == 1 && status.voters[0] == config.id) raft_->Campaign();
  next_tick_us_ = NowUs() + tick_us_;
  ereport(LOG, (errmsg("phantomdb raft: node %d of cluster %s started at applied index %lld", identity_.node_id,
                       identity_.cluster_id.c_str(), static_cast<long long>(applied_))));
}

raft::ConfState Member::CurrentConf() const {
  const raft::RaftStatus status = raft_->Status();
  return raft::ConfState{status.voters, status.learners};
}

void Member::RefreshCatalogView() {
  std::map<raft::NodeId, std::pair<std::string, int32_t>> addresses = join_peers_;
  InTransaction("phantomdb raft: reading nodes", [&] {
    SpiCatalogStore store;
    nodes_ = store.ListNodes();
    spi::Execute("SELECT DISTINCT node_id FROM phantomdb.placements");
    with_shards_.clear();
    for (uint64_t row = 0; row < spi::RowCount(); row++) with_shards_.insert(spi::GetInt32(row, 0));
  });
  for (const metadata::NodeRecord& node : nodes_)
    addresses[static_cast<raft::NodeId>(node.node_id)] = {node.host, node.port};
  // A removed node stays reachable while it is still in the group: the
  // change that takes it out needs its vote when it is a voter.
  if (raft_) {
    const raft::RaftStatus status = raft_->Status();
    for (const std::vector<raft::NodeId>* members : {&status.voters, &status.learners})
      for (raft::NodeId id : *members)
        if (!addresses.count(id) && addresses_.count(id)) addresses[id] = addresses_[id];
  }
  addresses.erase(static_cast<raft::NodeId>(identity_.node_id));
  addresses_ = addresses;
  transport_.SetAddresses(addresses);
  for (auto it = pending_states_.begin(); it != pending_states_.end();) {
    bool settled = true;
    for (const metadata::NodeRecord& node : nodes_)
      if (node.node_id == it->first && node.state != it->second.first) settled = false;
    it = settled ? pending_states_.erase(it) : std::next(it);
  }
}

void Member::ProposeOwn(const metadata::Command& command) {
  metadata::Proposal proposal;
  proposal.id = RandomSeed();
  proposal.origin = identity_.node_id;
  proposal.command = command;
  raft_->Propose(metadata::EncodeProposal(proposal));
}

void Member::HandleRecords() {
  const int64_t now_us = NowUs();
  for (raft_shared::Record& record : raft_shared::Drain(database_)) {
    switch (record.kind) {
      case raft_shared::RecordKind::kMessages: {
        std::vector<raft::Message> messages;
        try {
          messages = raft::DecodeMessages(record.payload);
        } catch (const Error& error) {
          ereport(LOG, (errmsg("phantomdb raft: dropped an undecodable message batch: %s", error.what())));
          break;
        }
        for (const raft::Message& message : messages) {
          if (message.to != static_cast<raft::NodeId>(identity_.node_id)) continue;
          last_heard_us_[message.from] = now_us;
          raft_->Step(message);
        }
        break;
      }
      case raft_shared::RecordKind::kProposal: {
        const ProposalRecord proposal = DecodeProposalRecord(record.payload);
        if (waiting_procnos_.size() >= 1024) waiting_procnos_.clear();
        waiting_procnos_[proposal.id] = proposal.procno;
        try {
          raft_->Propose(proposal.bytes);
        } catch (const Error& error) {
          raft_shared::PublishOutcome(database_, proposal.id, proposal.procno,
                                      {0, error.Sqlstate(), error.Message(), error.Hint()});
        }
        break;
      }
      case raft_shared::RecordKind::kTransfer: {
        const raft::NodeId target = static_cast<raft::NodeId>(DecodeNodeId(record.payload));
        ereport(LOG, (errmsg("phantomdb raft: leadership transfer to node %llu requested",
                             static_cast<unsigned long long>(target))));
        raft_->TransferLeadership(target);
        last_transfer_us_ = now_us;
        break;
      }
      case raft_shared::RecordKind::kLeave:
        if (record.payload == identity_.cluster_id) left_ = true;
        break;
      case raft_shared::RecordKind::kBootstrap:
      case raft_shared::RecordKind::kJoin:
        ereport(LOG, (errmsg("phantomdb raft: ignored a request to found or join a cluster: node %d already belongs "
                             "to cluster %s",
                             identity_.node_id, identity_.cluster_id.c_str())));
        break;
    }
  }
}

void Member::ApplyCommitted(const std::vector<raft::Entry>& entries) {
  struct Reply {
    uint64_t id;
    int procno;
    raft_shared::Outcome outcome;
  };
  std::vector<Reply> replies;
  bool conf_changed = false;
  bool catalog_changed = false;
  InTransaction("phantomdb raft: applying metadata", [&] {
    for (const raft::Entry& entry : entries) {
      const int64_t index = static_cast<int64_t>(entry.index);
      if (index <= applied_) continue;
      if (entry.type == raft::EntryType::kConfChange) {
        const raft::ConfChange change = raft::DecodeConfChange(entry.data.view());
        storage_->SetConfState(raft_->ApplyConfChange(change));
        conf_changed = true;
        const char* what = change.type == raft::ConfChangeType::kAddVoter     ? "voter"
                           : change.type == raft::ConfChangeType::kAddLearner ? "learner"
                                                                              : "removed";
        catalog_applier::RecordEntry(index, static_cast<int64_t>(entry.term),
                                     "Raft: node " + std::to_string(change.node) + " " + what);
      } else if (!entry.data.view().empty()) {
        metadata::Proposal proposal;
        bool decoded = true;
        try {
          proposal = metadata::DecodeProposal(entry.data.view());
        } catch (const Error& error) {
          decoded = false;
          ereport(WARNING, (errmsg("phantomdb raft: metadata log entry %lld cannot be decoded: %s",
                                   static_cast<long long>(index), error.what())));
        }
        if (decoded) {
          const catalog_applier::Applied applied =
              catalog_applier::ApplyProposal(proposal, index, static_cast<int64_t>(entry.term));
          catalog_changed = catalog_changed || applied.sqlstate.empty();
          if (proposal.origin == identity_.node_id) {
            auto waiting = waiting_procnos_.find(proposal.id);
            const int procno = waiting == waiting_procnos_.end() ? -1 : waiting->second;
            if (waiting != waiting_procnos_.end()) waiting_procnos_.erase(waiting);
            replies.push_back({proposal.id, procno, {index, applied.sqlstate, applied.message, applied.hint}});
          }
        }
      }
      applied_ = index;
    }
    catalog_applier::SetAppliedIndex(applied_);
    // The membership must be durable before the catalog says it applied it:
    // Raft restores membership from the log storage, not from the catalog.
    if (conf_changed) storage_->Sync();
  });
  // After the commit: a woken backend finds the catalog already changed.
  for (const Reply& reply : replies) raft_shared::PublishOutcome(database_, reply.id, reply.procno, reply.outcome);
  if (catalog_changed || conf_changed) RefreshCatalogView();
}

void Member::HandleReady() {
  while (raft_->HasReady()) {
    raft::Ready ready = raft_->GetReady();
    if (ready.soft_state) {
      if (ready.soft_state->role == raft::Role::kLeader) {
        leader_since_us_ = NowUs();
        ereport(LOG, (errmsg("phantomdb raft: node %d is now the leader (term %llu)", identity_.node_id,
                             static_cast<unsigned long long>(raft_->Status().term))));
      }
    }
    if (!ready.snapshot.Empty()) storage_->ApplySnapshot(ready.snapshot);
    storage_->Append(std::move(ready.entries));
    if (ready.hard_state) storage_->SetHardState(*ready.hard_state);
    storage_->Sync();
    if (!ready.snapshot.Empty()) {
      InTransaction("phantomdb raft: installing a snapshot", [&] {
        catalog_applier::RestoreCatalog(ready.snapshot.data, static_cast<int64_t>(ready.snapshot.meta.index));
      });
      applied_ = static_cast<int64_t>(ready.snapshot.meta.index);
      ereport(LOG,
              (errmsg("phantomdb raft: installed a catalog snapshot at index %lld", static_cast<long long>(applied_))));
      RefreshCatalogView();
    }
    transport_.Send(std::move(ready.messages), *raft_);
    if (!ready.committed_entries.empty()) ApplyCommitted(ready.committed_entries);
    raft_->Advance();
  }
}

void Member::PlanVoters(int64_t now_us) {
  const raft::RaftStatus status = raft_->Status();
  metadata::VoterInputs inputs;
  inputs.leader_id = identity_.node_id;
  for (raft::NodeId learner : status.learners) {
    const raft::Progress* progress = raft_->PeerProgress(learner);
    if (progress != nullptr && progress->Match() >= status.commit)
      inputs.caught_up.insert(static_cast<metadata::NodeId>(learner));
  }
  for (const auto& [id, heard_us] : last_heard_us_)
    if (now_us - heard_us < static_cast<int64_t>(node_timeout_ms) * 1000)
      inputs.responsive.insert(static_cast<metadata::NodeId>(id));
  const metadata::VoterPlan plan = metadata::PlanVoters(nodes_, CurrentConf(), raft_voters, inputs);
  if (plan.action == metadata::VoterAction::kNone) return;
  if (plan.action == metadata::VoterAction::kTransferLeadership) {
    if (now_us - last_transfer_us_ < static_cast<int64_t>(raft_election_timeout_ms) * 1000) return;
    last_transfer_us_ = now_us;
    ereport(LOG, (errmsg("phantomdb raft: transferring leadership to node %llu: %s",
                         static_cast<unsigned long long>(plan.node_id), plan.reason.c_str())));
    raft_->TransferLeadership(plan.node_id);
    return;
  }
  try {
    raft_->ProposeConfChange(metadata::ToConfChange(plan));
    ereport(LOG, (errmsg("phantomdb raft: %s node %llu: %s", metadata::VoterActionName(plan.action),
                         static_cast<unsigned long long>(plan.node_id), plan.reason.c_str())));
  } catch (const Error&) {
    // An earlier change is still being applied; the plan is made again.
  }
}

void Member::DetectFailures(int64_t now_us) {
  metadata::LeaderState leader;
  leader.leader_id = identity_.node_id;
  leader.leader_since_us = leader_since_us_;
  const raft::RaftStatus status = raft_->Status();
  for (const metadata::NodeRecord& node : nodes_) {
    const raft::Progress* progress = raft_->PeerProgress(static_cast<raft::NodeId>(node.node_id));
    if (progress != nullptr && progress->Match() >= status.commit) leader.caught_up.insert(node.node_id);
    if (!with_shards_.count(node.node_id)) leader.without_shards.insert(node.node_id);
  }
  std::map<metadata::NodeId, int64_t> heard;
  for (const auto& [id, when] : last_heard_us_) heard[static_cast<metadata::NodeId>(id)] = when;
  const std::vector<metadata::StateChange> changes =
      metadata::Evaluate(nodes_, heard, now_us, metadata::FailurePolicyFromSettings(node_timeout_ms), leader);
  for (const metadata::StateChange& change : changes) {
    auto pending = pending_states_.find(change.node_id);
    if (pending != pending_states_.end() && pending->second.first == change.to &&
        now_us - pending->second.second < static_cast<int64_t>(raft_election_timeout_ms) * 1000)
      continue;
    metadata::SetNodeState command;
    command.node_id = change.node_id;
    command.from = change.from;
    command.to = change.to;
    auto last = heard.find(change.node_id);
    command.last_heartbeat_us = last == heard.end() ? 0 : last->second;
    try {
      ProposeOwn(command);
      pending_states_[change.node_id] = {change.to, now_us};
      ereport(LOG, (errmsg("phantomdb raft: node %d: %s -> %s", change.node_id, metadata::NodeStateName(change.from),
                           metadata::NodeStateName(change.to))));
    } catch (const Error&) {
    }
  }
}

void Member::LeaderDuties(int64_t now_us) {
  if (raft_->Status().role != raft::Role::kLeader) return;
  if (record_founder_) {
    try {
      raft_->ProposeConfChange({raft::ConfChangeType::kAddVoter, static_cast<raft::NodeId>(identity_.node_id)});
      record_founder_ = false;
    } catch (const Error&) {
    }
  }
  if (now_us < next_duties_us_) return;
  next_duties_us_ = now_us + tick_us_;
  last_heard_us_[static_cast<raft::NodeId>(identity_.node_id)] = now_us;
  PlanVoters(now_us);
  DetectFailures(now_us);
}

void Member::MaybeSnapshot() {
  const int64_t base = static_cast<int64_t>(storage_->CurrentSnapshot().meta.index);
  if (applied_ - base < raft_snapshot_entries) return;
  std::string image;
  InTransaction("phantomdb raft: taking a snapshot", [&] { image = catalog_applier::CatalogImageBytes(); });
  storage_->CreateSnapshot(static_cast<raft::Index>(applied_), CurrentConf(), std::move(image));
  storage_->Compact(static_cast<raft::Index>(applied_));
  storage_->Sync();
}

void Member::Publish(int64_t now_us) {
  const raft::RaftStatus status = raft_->Status();
  raft_shared::Status shared;
  shared.running = true;
  shared.node_id = identity_.node_id;
  shared.cluster_id = identity_.cluster_id;
  shared.role = RoleName(status.role);
  shared.term = static_cast<int64_t>(status.term);
  shared.leader = static_cast<int32_t>(status.leader);
  shared.commit = static_cast<int64_t>(status.commit);
  shared.applied = applied_;
  shared.first_index = static_cast<int64_t>(storage_->FirstIndex());
  shared.last_index = static_cast<int64_t>(storage_->LastIndex());
  shared.snapshot_index = static_cast<int64_t>(storage_->CurrentSnapshot().meta.index);
  shared.leader_since_us = status.role == raft::Role::kLeader ? leader_since_us_ : 0;
  std::set<raft::NodeId> members(status.voters.begin(), status.voters.end());
  members.insert(status.learners.begin(), status.learners.end());
  for (const metadata::NodeRecord& node : nodes_) members.insert(static_cast<raft::NodeId>(node.node_id));
  for (raft::NodeId id : members) {
    raft_shared::PeerStatus peer;
    peer.node_id = static_cast<int32_t>(id);
    peer.voter = std::find(status.voters.begin(), status.voters.end(), id) != status.voters.end();
    peer.member = peer.voter || std::find(status.learners.begin(), status.learners.end(), id) != status.learners.end();
    const raft::Progress* progress = raft_->PeerProgress(id);
    peer.match = progress != nullptr ? static_cast<int64_t>(progress->Match()) : 0;
    if (id == static_cast<raft::NodeId>(identity_.node_id)) {
      peer.match = static_cast<int64_t>(storage_->LastIndex());
      peer.last_heard_us = now_us;
    } else {
      auto heard = last_heard_us_.find(id);
      peer.last_heard_us = heard == last_heard_us_.end() ? 0 : heard->second;
    }
    shared.peers.push_back(peer);
  }
  raft_shared::PublishStatus(database_, shared);
}

bool Member::Step() {
  HandleRecords();
  if (left_) return false;
  const int64_t now_us = NowUs();
  while (now_us >= next_tick_us_) {
    raft_->Tick();
    next_tick_us_ += tick_us_;
    // After a long stall (a slow apply) tick once, not once per missed tick:
    // a burst of ticks would start an election for no reason.
    if (now_us - next_tick_us_ > 10 * tick_us_) next_tick_us_ = now_us + tick_us_;
  }
  HandleReady();
  LeaderDuties(now_us);
  HandleReady();
  MaybeSnapshot();
  transport_.Pump(*raft_, NowUs());
  Publish(NowUs());
  return true;
}

long Member::WaitMs() const { return std::max<long>(1, (next_tick_us_ - NowUs() + 999) / 1000); }

// Waits on the latch and the given member's sockets.
void Wait(const Member* member, long timeout_ms) {
  const int sockets = member != nullptr ? member->SocketCount() : 0;
  WaitEventSet* set = CreateWaitEventSet(CurrentMemoryContext, 2 + sockets);
  AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
  AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
  if (member != nullptr) member->AddSockets(set);
  WaitEvent event;
  (void)WaitEventSetWait(set, timeout_ms, &event, 1, PG_WAIT_EXTENSION);
  FreeWaitEventSet(set);
  ResetLatch(MyLatch);
}

struct Start {
  Identity identity;
  bool founder = false;
  std::map<raft::NodeId, std::pair<std::string, int32_t>> peers;
};

// Without a cluster: waits for phantom_add_node to found one here, for
// another node to add this one, or joins through the seeds by itself.
std::optional<Start> WaitForCluster(Oid database, PosixFileSystem& fs) {
  std::optional<Start> start;
  for (const raft_shared::Record& record : raft_shared::Drain(database)) {
    if (start) break;
    if (record.kind == raft_shared::RecordKind::kBootstrap) {
      start = Start{Identity{1, record.payload}, true, {}};
    } else if (record.kind == raft_shared::RecordKind::kJoin) {
      const JoinRecord join = DecodeJoinRecord(record.payload);
      start = Start{Identity{join.node_id, join.cluster_id}, false, {}};
      for (const JoinRecord::Peer& peer : join.peers) start->peers[peer.node_id] = {peer.host, peer.port};
    }
  }
  if (!start) return std::nullopt;
  fs.RemoveAll();
  InTransaction("phantomdb raft: joining a cluster", [&] {
    catalog_applier::ClearCatalog();
    catalog_applier::StoreIdentity(start->identity);
  });
  return start;
}

void Loop(Oid database) {
  std::string user;
  std::string database_name;
  std::optional<Identity> identity;
  InTransaction("phantomdb raft: starting", [&] {
    user = GetUserNameFromId(GetUserId(), false);
    database_name = get_database_name(database);
    identity = catalog_applier::LoadIdentity();
  });
  // The worker belongs to one incarnation of the extension: its state
  // describes that incarnation's catalog.
  const Oid extension = ExtensionOid();
  PosixFileSystem fs(std::string(DataDir) + "/phantomdb_raft/" + std::to_string(database));
  std::unique_ptr<Member> member;
  if (identity) {
    member = std::make_unique<Member>(database, *identity, false,
                                      std::map<raft::NodeId, std::pair<std::string, int32_t>>{}, user, database_name);
  } else {
    // A new incarnation of the extension must not replay an old log.
    fs.RemoveAll();
  }
  int64_t next_extension_check_us = 0;
  int64_t next_discovery_us = 0;
  for (;;) {
    if (ShutdownRequestPending) return;
    // What CHECK_FOR_INTERRUPTS would do besides dying: DROP DATABASE and
    // others wait for every process to absorb their barrier.
    if (ProcSignalBarrierPending) ProcessProcSignalBarrier();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    const int64_t now_us = NowUs();
    if (now_us >= next_extension_check_us) {
      if (ExtensionOid() != extension) return;
      next_extension_check_us = now_us + 500'000;
    }
    if (member) {
      if (!member->Step()) {
        member.reset();
        fs.RemoveAll();
        InTransaction("phantomdb raft: leaving the cluster", [] { catalog_applier::ClearCatalog(); });
        ereport(LOG, (errmsg("phantomdb raft: this node left its cluster")));
        continue;
      }
      Wait(member.get(), member->WaitMs());
      continue;
    }
    raft_shared::PublishStatus(database, raft_shared::Status{true, 0, "", "none"});
    if (std::optional<Start> start = WaitForCluster(database, fs)) {
      member = std::make_unique<Member>(database, start->identity, start->founder, start->peers, user, database_name);
      continue;
    }
    if (now_us >= next_discovery_us) {
      next_discovery_us = now_us + 2'000'000;
      InTransaction("phantomdb raft: looking for a cluster to join", [] { discovery::TryAutoJoin(); });
    }
    Wait(nullptr, 500);
  }
}

}  // namespace

void Run(Oid database) {
  // The worker plans only its own catalog queries: it never consults the
  // metadata cache, which may lag the catalog it is writing (the shell of a
  // renamed table changes only when the proposer commits).
  LocalPlanningScope local_planning;
  while (!raft_shared::Claim(database)) {
    if (ShutdownRequestPending) return;
    Wait(nullptr, 1000);
  }
  MemoryContext loop_context = AllocSetContextCreate(TopMemoryContext, "phantomdb raft worker", ALLOCSET_DEFAULT_SIZES);
  MemoryContextSwitchTo(loop_context);
  PendingError pending;
  bool failed = false;
  try {
    Loop(database);
  } catch (...) {
    CaptureCurrentException(pending);
    failed = true;
  }
  raft_shared::Release(database);
  if (failed) {
    if (IsTransactionState()) AbortCurrentTransaction();
    MemoryContextSwitchTo(loop_context);
    // FATAL: the launcher starts the worker again; the log and catalog are
    // durable, so the next one resumes where this one stopped.
    if (pending.pg_error != nullptr)
      ereport(FATAL,
              (errmsg("phantomdb raft worker: %s", pending.pg_error->message ? pending.pg_error->message : "error")));
    ereport(FATAL, (errmsg("phantomdb raft worker: %s", pending.message),
                    pending.detail[0] ? errdetail("%s", pending.detail) : 0,
                    pending.hint[0] ? errhint("%s", pending.hint) : 0));
  }
}

}  // namespace phantom::pg::raft_worker
