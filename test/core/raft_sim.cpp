#include "raft_sim.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/raft/message_codec.hpp"
#include "core/raft/raft.hpp"
#include "core/raft/storage.hpp"

namespace phantom::raft::sim {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x2545F4914F6CDD1Dull + 17) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

 private:
  uint64_t state_;
};

struct Violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The key-value state machine: key -> value, plus the values already applied
// (a duplicated proposal is appended twice but must take effect once).
struct Kv {
  std::map<std::string, std::string> data;
  std::set<std::string> seen;

  std::string Serialize() const {
    std::string out;
    for (const auto& [k, v] : data) out += "k " + k + " " + v + "\n";
    for (const auto& v : seen) out += "s " + v + "\n";
    return out;
  }
  static Kv Parse(const std::string& text) {
    Kv kv;
    std::istringstream in(text);
    std::string tag;
    while (in >> tag) {
      if (tag == "k") {
        std::string k, v;
        in >> k >> v;
        kv.data[k] = v;
      } else {
        std::string v;
        in >> v;
        kv.seen.insert(v);
      }
    }
    return kv;
  }
  // "put <key> <value>"; returns the value when it took effect.
  std::optional<std::string> Apply(const std::string& command) {
    std::istringstream in(command);
    std::string op, k, v;
    in >> op >> k >> v;
    if (op != "put" || !seen.insert(v).second) return std::nullopt;
    data[k] = v;
    return v;
  }
};

struct SimNode {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<Raft> raft;  // null while crashed
  uint64_t incarnation = 0;
  Kv kv;
  Index applied = 0;
  ConfState conf;                            // as of `applied`
  std::map<std::string, Index> read_states;  // context -> read index, for this incarnation
};

struct Packet {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t from_incarnation = 0;
  std::string bytes;
  bool original = true;  // duplicates report nothing about snapshots
  bool has_snapshot = false;
};

struct ClientOp {
  size_t hist = 0;
  bool write = false;
  NodeId node = kNoNode;
  std::string key;
  std::string tag;  // the written value, or the read context
  int64_t deadline = 0;
};

struct AppliedRecord {
  Entry entry;
  Term bound = 0;  // term of the first node seen applying it: it was committed in a term <= bound
};

constexpr int kClients = 3;
constexpr int kKeys = 3;

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed) {}

  SimResult Run() {
    try {
      Setup();
      for (int t = 0; t < opt_.ticks; ++t) {
        ++now_;
        Schedule();
        Clients(true);
        Step();
      }
      Finish();
    } catch (const Violation& v) {
      res_.ok = false;
      res_.failure = v.what();
    } catch (const std::exception& e) {
      res_.ok = false;
      res_.failure = std::string("unexpected exception: ") + e.what();
    }
    res_.history = history_;
    return res_;
  }

 private:
  // ---- setup and node lifecycle --------------------------------------------

  void Setup() {
    ConfState conf;
    const int total = opt_.voters + opt_.learners;
    for (int i = 1; i <= total; ++i) {
      (i <= opt_.voters ? conf.voters : conf.learners).push_back(static_cast<NodeId>(i));
    }
    spare_ = static_cast<NodeId>(total + 1);
    for (int i = 1; i <= total; ++i) StartFresh(static_cast<NodeId>(i), conf);
    Log("start voters=" + std::to_string(opt_.voters) + " learners=" + std::to_string(opt_.learners));
  }

  void StartFresh(NodeId id, const ConfState& conf) {
    SimNode& n = nodes_[id];
    n.id = id;
    n.storage->SetConfState(conf);
    n.conf = conf;
    Boot(n);
  }

  Config MakeConfig(const SimNode& n) const {
    Config c;
    c.id = n.id;
    c.election_tick = opt_.election_tick;
    c.heartbeat_tick = 1;
    c.storage = n.storage.get();
    c.pre_vote = true;
    c.check_quorum = true;
    c.max_inflight_messages = 16;
    c.max_bytes_per_message = 512;
    c.seed = opt_.seed * 1000 + n.incarnation;
    c.applied = n.applied;
    return c;
  }

  void Boot(SimNode& n) {
    ++n.incarnation;
    n.read_states.clear();
    n.raft = std::make_unique<Raft>(MakeConfig(n));
  }

  void Crash(NodeId id) {
    SimNode& n = nodes_.at(id);
    n.raft.reset();
    // In-flight messages from and to the node vanish with it; snapshots on
    // their way to it are reported lost once the network is consistent again.
    std::vector<Packet> lost;
    for (auto it = net_.begin(); it != net_.end();) {
      if (it->second.from == id || it->second.to == id) {
        if (it->second.to == id) lost.push_back(std::move(it->second));
        it = net_.erase(it);
      } else {
        ++it;
      }
    }
    for (const Packet& p : lost) ReportSnapshotFate(p, false);
  }

  void Restart(NodeId id) {
    SimNode& n = nodes_.at(id);
    // The application state is rebuilt from the disk: the snapshot, then the
    // log replayed from there.
    const Snapshot snap = n.storage->CurrentSnapshot();
    n.kv = Kv::Parse(snap.data);
    n.applied = snap.meta.index;
    CheckSnapshotState(n.id, n.applied, snap.data);
    n.conf = n.storage->InitialState().conf_state;
    ++res_.restarts;
    // Committed entries never get lost: what the disk says is committed is still there.
    const Index commit = n.storage->InitialState().hard_state.commit;
    if (commit > n.storage->LastIndex()) Fail("node " + Id(id) + " restarts with commit beyond its log");
    for (Index i = n.storage->FirstIndex(); i <= commit; ++i) {
      auto it = applied_.find(i);
      if (it != applied_.end() && n.storage->TermOf(i) != it->second.entry.term) {
        Fail("node " + Id(id) + " lost committed entry " + std::to_string(i) + " across a restart");
      }
    }
    Boot(n);
  }

  // ---- the network ---------------------------------------------------------

  void Send(NodeId from, const std::vector<Message>& messages) {
    std::map<NodeId, std::vector<Message>> by_to;
    for (const Message& m : messages) by_to[m.to].push_back(m);
    for (auto& [to, batch] : by_to) {
      Packet p;
      p.from = from;
      p.to = to;
      p.from_incarnation = nodes_.at(from).incarnation;
      p.bytes = EncodeMessages(batch);
      p.has_snapshot =
          std::any_of(batch.begin(), batch.end(), [](const Message& m) { return m.type == MessageType::kSnapshot; });
      Enqueue(p);
      if (rng_.Chance(dup_percent_)) {
        Packet copy = p;
        copy.original = false;
        Enqueue(copy);
      }
    }
  }

  void Enqueue(const Packet& p) {
    const int64_t at = now_ + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(max_delay_) + 1));
    net_.emplace(std::make_pair(at, seq_++), p);
  }

  void ReportSnapshotFate(const Packet& p, bool delivered) {
    if (!p.original || !p.has_snapshot) return;
    auto it = nodes_.find(p.from);
    if (it == nodes_.end() || !it->second.raft || it->second.incarnation != p.from_incarnation) return;
    it->second.raft->ReportSnapshot(p.to, delivered);
    ProcessReady(it->second);
  }

  void Deliver() {
    while (!net_.empty() && net_.begin()->first.first <= now_) {
      Packet p = std::move(net_.begin()->second);
      net_.erase(net_.begin());
      auto it = nodes_.find(p.to);
      const bool lost =
          it == nodes_.end() || !it->second.raft || cut_.count({p.from, p.to}) > 0 || rng_.Chance(loss_percent_);
      if (!lost) {
        ++res_.packets_decoded;
        for (const Message& m : DecodeMessages(p.bytes)) it->second.raft->Step(m);
        ProcessReady(it->second);
      }
      ReportSnapshotFate(p, !lost);
    }
  }

  // ---- the Ready contract ------------------------------------------------

  void ProcessReady(SimNode& n) {
    while (n.raft && n.raft->HasReady()) {
      Ready rd = n.raft->GetReady();
      // 1. Persist: snapshot, entries, hard state.
      if (!rd.snapshot.Empty()) n.storage->ApplySnapshot(rd.snapshot);
      n.storage->Append(rd.entries);
      for (const Entry& e : rd.entries) RecordPersisted(n, e);
      if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
      // 2. Send.
      Send(n.id, rd.messages);
      // 3. Apply.
      if (!rd.snapshot.Empty()) {
        n.kv = Kv::Parse(rd.snapshot.data);
        n.applied = rd.snapshot.meta.index;
        CheckSnapshotState(n.id, n.applied, rd.snapshot.data);
        n.conf = rd.snapshot.meta.conf;
        ++res_.snapshots_installed;
      }
      for (const Entry& e : rd.committed_entries) ApplyEntry(n, e);
      for (const ReadState& rs : rd.read_states) n.read_states[rs.context] = rs.index;
      // 4. Advance.
      n.raft->Advance();
      ServeReads();
    }
  }

  // Log matching, checked incrementally: an (index, term) pair must always
  // name the same entry with the same term before it, in every node's log.
  // By induction two logs that agree on the term at an index agree on the
  // whole prefix.
  void RecordPersisted(SimNode& n, const Entry& e) {
    if (e.index < n.storage->FirstIndex()) return;  // covered by a snapshot
    if (n.storage->TermOf(e.index) != e.term) Fail("node " + Id(n.id) + " did not persist entry " + Str(e.index));
    const Term prev = n.storage->TermOf(e.index - 1);
    const auto [it, fresh] = log_index_.emplace(std::make_pair(e.index, e.term), std::make_pair(e, prev));
    if (!fresh && (it->second.first != e || it->second.second != prev)) {
      Fail("log matching: node " + Id(n.id) + " holds a different entry or predecessor at index " + Str(e.index) +
           " term " + Str(e.term));
    }
  }

  void ApplyEntry(SimNode& n, const Entry& e) {
    if (e.index != n.applied + 1) {
      Fail("node " + Id(n.id) + " applied index " + Str(e.index) + " after " + Str(n.applied));
    }
    n.applied = e.index;
    const Term term = n.raft->Status().term;
    const auto [it, fresh] = applied_.emplace(e.index, AppliedRecord{e, term});
    if (!fresh && it->second.entry != e) {
      Fail("state machine safety: node " + Id(n.id) + " applied a different entry at index " + Str(e.index));
    }
    if (e.type == EntryType::kConfChange) {
      n.conf = n.raft->ApplyConfChange(DecodeConfChange(e.data.view()));
      ++res_.conf_changes_applied;
      n.storage->SetConfState(n.conf);
      if (fresh) state_at_[e.index] = n.kv.Serialize();
      return;
    }
    const std::optional<std::string> value = e.data.empty() ? std::nullopt : n.kv.Apply(e.data.str());
    if (fresh) state_at_[e.index] = n.kv.Serialize();
    if (!value) return;
    if (*value == final_value_) final_seen_.insert(n.id);
    for (auto& c : clients_) {
      if (c && c->write && c->tag == *value) {
        history_[c->hist].return_time = now_;
        ++res_.writes_acked;
        c.reset();
      }
    }
  }

  // A snapshot must hold exactly the state every node reached by applying
  // the log up to its index (when some node did so in this run).
  void CheckSnapshotState(NodeId id, Index index, const std::string& data) {
    if (index == 0) return;
    const auto it = state_at_.find(index);
    if (it != state_at_.end() && Kv::Parse(data).Serialize() != it->second) {
      Fail("snapshot safety: node " + Id(id) + " holds a snapshot at " + Str(index) +
           " that differs from the applied state there");
    }
  }

  void ServeReads() {
    for (auto& c : clients_) {
      if (!c || c->write) continue;
      SimNode& n = nodes_.at(c->node);
      if (!n.raft) continue;
      auto it = n.read_states.find(c->tag);
      if (it == n.read_states.end() || n.applied < it->second) continue;
      CompleteRead(*c, n);
      n.read_states.erase(it);
      c.reset();
    }
  }

  void CompleteRead(const ClientOp& op, const SimNode& n) {
    const auto kv = n.kv.data.find(op.key);
    history_[op.hist].value = kv == n.kv.data.end() ? "" : kv->second;
    history_[op.hist].return_time = now_;
    ++res_.reads_acked;
  }

  // ---- one tick of the world -----------------------------------------------

  void Step() {
    for (auto& [id, n] : nodes_) {
      if (!n.raft) continue;
      n.raft->Tick();
      ProcessReady(n);
    }
    Deliver();
    for (auto& [id, n] : nodes_) ProcessReady(n);
    ServeReads();
    CheckInvariants();
  }

  // Log matching checked directly (the incremental check in RecordPersisted
  // catches it first; this cross-checks it): for any two disks, below the
  // highest index where both hold the same term, the stored entries agree.
  void CheckLogMatching() {
    for (auto a = nodes_.begin(); a != nodes_.end(); ++a) {
      for (auto b = std::next(a); b != nodes_.end(); ++b) {
        const MemoryStorage& x = *a->second.storage;
        const MemoryStorage& y = *b->second.storage;
        const Index lo = std::max(x.FirstIndex(), y.FirstIndex());
        Index i = std::min(x.LastIndex(), y.LastIndex());
        while (i >= lo && x.TermOf(i) != y.TermOf(i)) --i;
        if (i < lo) continue;
        if (x.Entries(lo, i + 1, UINT64_MAX) != y.Entries(lo, i + 1, UINT64_MAX)) {
          Fail("log matching: " + Id(a->first) + " and " + Id(b->first) + " agree on the term at " + Str(i) +
               " but not on the entries before it");
        }
      }
    }
  }

  void CheckInvariants() {
    if (now_ % 25 == 0) CheckLogMatching();
    for (auto& [id, n] : nodes_) {
      if (!n.raft) continue;
      const RaftStatus st = n.raft->Status();
      if (st.role != Role::kLeader) continue;
      const auto [it, fresh] = leader_of_term_.emplace(st.term, id);
      if (it->second != id) {
        Fail("two leaders in term " + Str(st.term) + ": " + Id(it->second) + " and " + Id(id));
      }
      if (fresh) Log("leader " + Id(id) + " term " + Str(st.term));
      // Leader completeness: every entry committed in an earlier term is in this leader's log.
      const Index first = n.storage->FirstIndex();
      for (auto a = applied_.lower_bound(first); a != applied_.end(); ++a) {
        if (a->second.bound >= st.term) continue;
        if (a->first > n.storage->LastIndex() || n.storage->TermOf(a->first) != a->second.entry.term) {
          Fail("leader completeness: leader " + Id(id) + " of term " + Str(st.term) + " lacks committed entry " +
               Str(a->first));
        }
      }
      if (elect_since_ && st.term > elect_after_term_) {
        res_.ticks_to_elect.push_back(static_cast<int>(now_ - *elect_since_));
        elect_since_.reset();
      }
    }
  }

  // ---- clients ---------------------------------------------------------------

  std::vector<NodeId> Live() const {
    std::vector<NodeId> out;
    for (const auto& [id, n] : nodes_) {
      if (n.raft) out.push_back(id);
    }
    return out;
  }

  // The live node that believes it leads with the highest term, if any.
  std::optional<NodeId> Leader() const {
    std::optional<NodeId> best;
    Term best_term = 0;
    for (const auto& [id, n] : nodes_) {
      if (!n.raft) continue;
      const RaftStatus st = n.raft->Status();
      if (st.role == Role::kLeader && (!best || st.term > best_term)) {
        best = id;
        best_term = st.term;
      }
    }
    return best;
  }

  void Clients(bool issue) {
    for (int ci = 0; ci < kClients; ++ci) {
      auto& c = clients_[static_cast<size_t>(ci)];
      if (c && now_ > c->deadline) {
        Log("client " + std::to_string(ci) + " timed out");
        c.reset();  // return_time stays never; the next operation is a new one
      }
      if (c || !issue || !rng_.Chance(40)) continue;
      const std::vector<NodeId> live = Live();
      if (live.empty()) continue;
      NodeId target = live[rng_.Below(live.size())];
      const std::optional<NodeId> leader = Leader();
      if (leader && rng_.Chance(60)) target = *leader;
      ClientOp op;
      op.write = rng_.Chance(50);
      op.node = target;
      op.key = "k" + std::to_string(rng_.Below(kKeys));
      op.tag = (op.write ? "v" : "r") + std::to_string(next_op_++);
      op.deadline = now_ + 4 * opt_.election_tick;
      lincheck::Operation h;
      h.client = ci;
      h.kind = op.write ? lincheck::OpKind::kWrite : lincheck::OpKind::kRead;
      h.key = op.key;
      h.value = op.write ? op.tag : "";
      h.call_time = now_;
      SimNode& n = nodes_.at(target);
      if (!op.write && opt_.broken_local_reads) {
        op.hist = history_.size();
        history_.push_back(h);
        CompleteRead(op, n);
        continue;
      }
      try {
        if (op.write) {
          n.raft->Propose("put " + op.key + " " + op.tag);
        } else {
          n.raft->ReadIndex(op.tag);
        }
      } catch (const Error&) {
        continue;  // refused outright (no leader): never happened
      }
      op.hist = history_.size();
      history_.push_back(h);
      c = op;
      ProcessReady(n);
    }
  }

  // ---- the fault schedule ---------------------------------------------------

  void Schedule() {
    if (!rng_.Chance(opt_.fault_percent)) return;
    std::vector<NodeId> all;
    for (const auto& [id, n] : nodes_) all.push_back(id);
    const NodeId a = all[rng_.Below(all.size())];
    const NodeId b = all[rng_.Below(all.size())];
    switch (rng_.Below(14)) {
      case 0: {  // symmetric partition: a random minority
        cut_.clear();
        std::vector<NodeId> side;
        for (NodeId id : all) {
          if (rng_.Chance(35)) side.push_back(id);
        }
        for (NodeId x : side) {
          for (NodeId y : all) {
            if (std::find(side.begin(), side.end(), y) == side.end()) {
              cut_.insert({x, y});
              cut_.insert({y, x});
            }
          }
        }
        Log("partition " + Ids(side) + " | rest");
        break;
      }
      case 1: {  // asymmetric: a hears everyone, nobody hears a (or the reverse)
        const bool deaf = rng_.Chance(50);
        for (NodeId y : all) {
          if (y != a) cut_.insert(deaf ? std::make_pair(y, a) : std::make_pair(a, y));
        }
        Log(std::string("asymmetric ") + (deaf ? "nobody reaches " : "nobody hears ") + Id(a));
        break;
      }
      case 2:
        if (a != b) {
          cut_.insert({a, b});
          Log("cut " + Id(a) + "->" + Id(b));
        }
        break;
      case 3:
        cut_.clear();
        Log("heal");
        break;
      case 4:
        loss_percent_ = static_cast<int>(rng_.Below(4)) * 7;
        dup_percent_ = static_cast<int>(rng_.Below(3)) * 5;
        max_delay_ = static_cast<int>(rng_.Below(5));
        Log("net loss=" + std::to_string(loss_percent_) + "% dup=" + std::to_string(dup_percent_) +
            "% delay<=" + std::to_string(max_delay_));
        break;
      case 5:
      case 6: {  // crash, preferring the leader
        const std::optional<NodeId> leader = Leader();
        const NodeId victim = leader && rng_.Chance(60) ? *leader : a;
        int crashed = 0;
        for (const auto& [id, n] : nodes_) crashed += n.raft ? 0 : 1;
        if (!nodes_.at(victim).raft || crashed * 2 + 2 > static_cast<int>(nodes_.size())) break;
        if (leader && victim == *leader) {
          elect_since_ = now_;
          elect_after_term_ = nodes_.at(victim).raft->Status().term;
        }
        Crash(victim);
        Log("crash " + Id(victim) + (leader && victim == *leader ? " (leader)" : ""));
        break;
      }
      case 7:
      case 8:
        for (auto& [id, n] : nodes_) {
          if (!n.raft) {
            Restart(id);
            Log("restart " + Id(id));
            break;
          }
        }
        break;
      case 9:
      case 10: {  // compaction at the applied index
        SimNode& n = nodes_.at(a);
        if (!n.raft || n.applied <= n.storage->FirstIndex()) break;
        CheckSnapshotState(n.id, n.applied, n.kv.Serialize());
        n.storage->CreateSnapshot(n.applied, n.conf, n.kv.Serialize());
        n.storage->Compact(n.applied);
        Log("compact " + Id(a) + " at " + Str(n.applied));
        break;
      }
      default:
        Membership(a);
        break;
    }
  }

  void Membership(NodeId a) {
    const std::optional<NodeId> leader = Leader();
    if (!leader) return;
    Raft& r = *nodes_.at(*leader).raft;
    const RaftStatus st = r.Status();
    auto in = [](const std::vector<NodeId>& v, NodeId id) { return std::find(v.begin(), v.end(), id) != v.end(); };
    ConfChange cc;
    std::string what;
    const uint64_t kind = rng_.Below(4);
    if (kind == 0) {  // add a learner: the spare, or a node removed earlier
      NodeId cand = a;
      if (in(st.voters, cand) || in(st.learners, cand)) cand = spare_;
      if (in(st.voters, cand) || in(st.learners, cand)) return;
      cc = {ConfChangeType::kAddLearner, cand};
      what = "add learner " + Id(cand);
      if (nodes_.count(cand) == 0) StartFresh(cand, ConfState{st.voters, st.learners});
    } else if (kind == 1) {  // promote a learner
      if (st.learners.empty()) return;
      cc = {ConfChangeType::kAddVoter, st.learners[rng_.Below(st.learners.size())]};
      what = "promote " + Id(cc.node);
    } else if (kind == 2) {  // remove a voter (it may be added back later)
      if (st.voters.size() < 3 || !in(st.voters, a)) return;
      cc = {ConfChangeType::kRemoveNode, a};
      what = "remove voter " + Id(a);
    } else {  // remove a learner
      if (st.learners.empty()) return;
      cc = {ConfChangeType::kRemoveNode, st.learners[rng_.Below(st.learners.size())]};
      what = "remove learner " + Id(cc.node);
    }
    try {
      r.ProposeConfChange(cc);
    } catch (const Error&) {
      Log(what + " refused");
      return;
    }
    Log(what + " via " + Id(*leader));
    ProcessReady(nodes_.at(*leader));
  }

  // ---- the end: heal and check liveness ----------------------------------------

  void Finish() {
    cut_.clear();
    loss_percent_ = 0;
    dup_percent_ = 0;
    max_delay_ = 1;
    elect_since_.reset();
    for (auto& [id, n] : nodes_) {
      if (!n.raft) Restart(id);
    }
    Log("final: heal all, restart all");
    final_value_ = "final" + std::to_string(opt_.seed);
    const int bound = 50 * opt_.election_tick;
    int64_t proposed_at = -1;
    for (int t = 0; t < bound; ++t) {
      ++now_;
      Clients(false);
      Step();
      const std::optional<NodeId> leader = Leader();
      if (!leader) continue;
      const RaftStatus st = nodes_.at(*leader).raft->Status();
      bool all = true;
      for (NodeId id : st.voters) all = all && final_seen_.count(id) > 0;
      for (NodeId id : st.learners) all = all && final_seen_.count(id) > 0;
      if (proposed_at >= 0 && all) {
        res_.final_ticks = t + 1;
        Log("final proposal applied on all members " + Ids(st.voters) + " + " + Ids(st.learners));
        if (st.voters.size() >= 3) CleanLeaderCrash(*leader, st.term);
        CheckLogMatching();
        return;
      }
      if (proposed_at < 0 || now_ - proposed_at > 3 * opt_.election_tick) {
        try {
          nodes_.at(*leader).raft->Propose("put zfinal " + final_value_);
          proposed_at = now_;
          ProcessReady(nodes_.at(*leader));
        } catch (const Error&) {
        }
      }
    }
    Fail("liveness: no leader committed the final proposal on all members within " + std::to_string(bound) +
         " ticks of healing");
  }

  void CleanLeaderCrash(NodeId leader, Term term) {
    Crash(leader);
    Log("crash " + Id(leader) + " (leader, clean network)");
    const int bound = 50 * opt_.election_tick;
    for (int t = 1; t <= bound; ++t) {
      ++now_;
      Step();
      const std::optional<NodeId> next = Leader();
      if (next && nodes_.at(*next).raft->Status().term > term) {
        res_.clean_ticks_to_elect = t;
        Log("leader " + Id(*next) + " elected after " + std::to_string(t) + " ticks");
        Restart(leader);
        return;
      }
    }
    Fail("liveness: no new leader within " + std::to_string(bound) +
         " ticks of crashing the leader on a clean network");
  }

  // ---- helpers ---------------------------------------------------------------

  [[noreturn]] void Fail(const std::string& what) {
    Log("VIOLATION " + what);
    throw Violation(what);
  }
  void Log(const std::string& event) { res_.trace.push_back("t=" + std::to_string(now_) + " " + event); }
  static std::string Str(uint64_t v) { return std::to_string(v); }
  static std::string Id(NodeId id) { return "n" + std::to_string(id); }
  static std::string Ids(const std::vector<NodeId>& ids) {
    std::string out = "{";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + Id(ids[i]);
    return out + "}";
  }

  SimOptions opt_;
  Rng rng_;
  SimResult res_;
  int64_t now_ = 0;
  std::map<NodeId, SimNode> nodes_;
  NodeId spare_ = kNoNode;

  std::multimap<std::pair<int64_t, uint64_t>, Packet> net_;
  uint64_t seq_ = 0;
  std::set<std::pair<NodeId, NodeId>> cut_;
  int loss_percent_ = 0;
  int dup_percent_ = 0;
  int max_delay_ = 1;

  std::optional<ClientOp> clients_[kClients];
  std::vector<lincheck::Operation> history_;
  uint64_t next_op_ = 0;

  std::map<Term, NodeId> leader_of_term_;
  std::map<std::pair<Index, Term>, std::pair<Entry, Term>> log_index_;
  std::map<Index, AppliedRecord> applied_;
  std::map<Index, std::string> state_at_;  // the serialized state machine right after applying an index

  std::optional<int64_t> elect_since_;
  Term elect_after_term_ = 0;
  std::string final_value_ = "\x01none";
  std::set<NodeId> final_seen_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

std::string Describe(const SimOptions& o, const SimResult& r) {
  std::ostringstream out;
  out << "seed " << o.seed << " (voters=" << o.voters << " learners=" << o.learners << " ticks=" << o.ticks
      << " fault_percent=" << o.fault_percent << (o.broken_local_reads ? " broken_local_reads" : "")
      << "): " << (r.ok ? "ok" : r.failure) << "\nrerun with PHANTOM_RAFT_SEED=" << o.seed << "\ntrace:\n";
  for (const std::string& line : r.trace) out << "  " << line << "\n";
  return out.str();
}

}  // namespace phantom::raft::sim
