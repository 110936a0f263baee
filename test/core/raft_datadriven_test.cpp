// Data-driven Raft scenarios: every test/unit/testdata/raft/*.txt file is one
// test. A file is a sequence of blocks; each block is one or more command lines,
// a line "----", then the expected output up to the next blank line. Lines
// starting with '#' between blocks are comments. The runner replays the
// commands against an in-test cluster and compares the output of each block;
// with PHANTOM_REWRITE=1 it rewrites the files with the actual output instead
// (review the diff line by line before keeping it).
//
// Commands (node ids are numbers; lists are comma-separated):
//   cluster voters=1,2,3 [learners=4] [pre-vote] [check-quorum] [max-bytes=N]
//   campaign N                  N starts an election
//   tick N [count]              ticks node N (default once)
//   propose N data              proposes on N
//   deliver                     delivers the messages in flight now (one hop)
//   stabilize                   delivers and processes Readys until quiet
//   partition 1,2 | 3 [| ...]   cuts every link between the groups
//   isolate N / heal            cuts all of N's links / restores all links
//   crash N / restart N         N stops (messages in flight to or from it are
//                               lost) / N restarts from its storage
//   transfer-leader from=N to=M
//   compact N index             N snapshots its state machine at index and
//                               discards the log before it
//   add-learner N id / promote N id   N proposes the conf change (add-learner
//                               also starts node id, knowing the group's voters)
//   status                      term, role, leader, commit, applied per node
//   log N                       N's snapshot and entries
// Output: after any command, a line per node whose role, leader, term or commit
// changed ("2: follower term=2 leader=1 commit=3"); per delivered message
// "from->to Type fields", with "DROPPED" when a cut link or a down node lost it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/raft/message_codec.hpp"
#include "core/raft/raft.hpp"
#include "core/raft/storage.hpp"

namespace phantom::raft {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<NodeId> Ids(const std::string& s) {
  std::vector<NodeId> out;
  for (const std::string& part : Split(s, ',')) {
    if (!part.empty()) out.push_back(std::stoull(part));
  }
  return out;
}

std::string Join(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

const char* TypeName(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResp";
    case MessageType::kAppend:
      return "App";
    case MessageType::kAppendResponse:
      return "AppResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResp";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResponse:
      return "ReadIndexResp";
    case MessageType::kTransferLeader:
      return "TransferLeader";
    case MessageType::kPropose:
      return "Propose";
  }
  return "?";
}

std::string FormatEntry(const Entry& e) {
  std::string out = std::to_string(e.index) + "/" + std::to_string(e.term);
  if (e.type == EntryType::kConfChange) {
    const ConfChange cc = DecodeConfChange(e.data.view());
    const char* what = cc.type == ConfChangeType::kAddVoter     ? "add-voter"
                       : cc.type == ConfChangeType::kAddLearner ? "add-learner"
                                                                : "remove";
    out += ":conf(" + std::string(what) + " " + std::to_string(cc.node) + ")";
  } else if (!e.data.empty()) {
    out += ":" + e.data.str();
  }
  return out;
}

std::string FormatEntries(const std::vector<Entry>& entries) {
  std::string out = "[";
  for (size_t i = 0; i < entries.size(); ++i) out += (i ? " " : "") + FormatEntry(entries[i]);
  return out + "]";
}

std::string FormatMessage(const Message& m) {
  std::ostringstream out;
  out << m.from << "->" << m.to << " " << TypeName(m.type) << " term=" << m.term;
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      out << " last=" << m.index << "/" << m.log_term;
      if (!m.context.empty()) out << " " << m.context;
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      out << (m.reject ? " rejected" : " granted");
      break;
    case MessageType::kAppend:
      out << " prev=" << m.index << "/" << m.log_term << " entries=" << FormatEntries(m.entries)
          << " commit=" << m.commit;
      break;
    case MessageType::kAppendResponse:
      if (m.reject) {
        out << " reject index=" << m.index << " hint=" << m.reject_hint << "/" << m.hint_term;
      } else {
        out << " index=" << m.index;
      }
      break;
    case MessageType::kHeartbeat:
      out << " commit=" << m.commit;
      break;
    case MessageType::kSnapshot:
      out << " snapshot=" << m.snapshot.meta.index << "/" << m.snapshot.meta.term
          << " voters=" << Join(m.snapshot.meta.conf.voters);
      if (!m.snapshot.meta.conf.learners.empty()) out << " learners=" << Join(m.snapshot.meta.conf.learners);
      break;
    case MessageType::kPropose:
      out << " entries=" << FormatEntries(m.entries);
      break;
    default:
      break;
  }
  return out.str();
}

struct Node {
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<Raft> raft;  // null while crashed
  Config config;
  Index applied = 0;              // durable state machine: survives a crash
  std::vector<std::string> data;  // applied normal entries' data
  std::string last_state;         // last printed state line
};

class Cluster {
 public:
  std::string Run(const std::string& line) {
    out_.str("");
    const std::vector<std::string> w = Words(line);
    const std::string& cmd = w.at(0);
    if (cmd == "cluster") {
      CmdCluster(w);
    } else if (cmd == "campaign") {
      At(Arg(w, 1)).Campaign();
    } else if (cmd == "tick") {
      const int count = w.size() > 2 ? std::stoi(w[2]) : 1;
      for (int k = 0; k < count; ++k) {
        At(Arg(w, 1)).Tick();
        ProcessReadys();
      }
    } else if (cmd == "propose") {
      Guard([&] { At(Arg(w, 1)).Propose(w.at(2)); });
    } else if (cmd == "deliver") {
      ProcessReadys();
      DeliverRound();
    } else if (cmd == "stabilize") {
      Stabilize();
    } else if (cmd == "partition") {
      CmdPartition(line.substr(line.find(' ') + 1));
    } else if (cmd == "isolate") {
      const NodeId id = Arg(w, 1);
      for (const auto& [other, node] : nodes_) {
        if (other != id) Cut(id, other);
      }
    } else if (cmd == "heal") {
      cut_.clear();
    } else if (cmd == "crash") {
      CmdCrash(Arg(w, 1));
    } else if (cmd == "restart") {
      Node& n = nodes_.at(Arg(w, 1));
      n.config.applied = n.applied;
      n.raft = std::make_unique<Raft>(n.config);
      n.last_state = StateLine(*n.raft);
    } else if (cmd == "transfer-leader") {
      const NodeId from = std::stoull(Option(w, "from"));
      Guard([&] { At(from).TransferLeadership(std::stoull(Option(w, "to"))); });
    } else if (cmd == "compact") {
      Node& n = nodes_.at(Arg(w, 1));
      const Index index = std::stoull(w.at(2));
      Guard([&] {
        n.storage->CreateSnapshot(index, n.storage->InitialState().conf_state, "applied=" + std::to_string(index));
        n.storage->Compact(index);
      });
    } else if (cmd == "add-learner" || cmd == "promote") {
      CmdConfChange(cmd, Arg(w, 1), Arg(w, 2));
    } else if (cmd == "status") {
      CmdStatus();
    } else if (cmd == "log") {
      CmdLog(Arg(w, 1));
    } else {
      ADD_FAILURE() << "unknown command: " << line;
    }
    ProcessReadys();
    return out_.str();
  }

 private:
  static NodeId Arg(const std::vector<std::string>& w, size_t i) { return std::stoull(w.at(i)); }
  static std::string Option(const std::vector<std::string>& w, const std::string& key) {
    for (const std::string& word : w) {
      if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
    }
    ADD_FAILURE() << "missing " << key << "=";
    return "0";
  }

  Raft& At(NodeId id) {
    Node& n = nodes_.at(id);
    if (!n.raft) throw Error("55000", "node " + std::to_string(id) + " is down");
    return *n.raft;
  }

  template <typename F>
  void Guard(F f) {
    try {
      f();
    } catch (const Error& e) {
      out_ << "error: " << e.what() << "\n";
    }
  }

  void Cut(NodeId a, NodeId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }

  void AddNode(NodeId id, const ConfState& conf) {
    Node& n = nodes_[id];
    n.storage->SetConfState(conf);
    n.config.id = id;
    n.config.storage = n.storage.get();
    n.config.pre_vote = pre_vote_;
    n.config.check_quorum = check_quorum_;
    n.config.max_bytes_per_message = max_bytes_;
    n.config.seed = id;
    n.raft = std::make_unique<Raft>(n.config);
    n.last_state = StateLine(*n.raft);
  }

  static std::string StateLine(const Raft& raft) {
    const RaftStatus s = raft.Status();
    std::ostringstream state;
    state << RoleName(s.role) << " term=" << s.term << " leader=" << s.leader << " commit=" << s.commit;
    return state.str();
  }

  void CmdCluster(const std::vector<std::string>& w) {
    ConfState conf;
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i].rfind("voters=", 0) == 0) conf.voters = Ids(w[i].substr(7));
      if (w[i].rfind("learners=", 0) == 0) conf.learners = Ids(w[i].substr(9));
      if (w[i].rfind("max-bytes=", 0) == 0) max_bytes_ = std::stoull(w[i].substr(10));
      if (w[i] == "pre-vote") pre_vote_ = true;
      if (w[i] == "check-quorum") check_quorum_ = true;
    }
    for (NodeId id : conf.voters) AddNode(id, conf);
    for (NodeId id : conf.learners) AddNode(id, conf);
    out_ << "ok\n";
  }

  void CmdPartition(const std::string& spec) {
    std::vector<std::vector<NodeId>> groups;
    for (std::string part : Split(spec, '|')) {
      part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
      groups.push_back(Ids(part));
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      for (size_t j = i + 1; j < groups.size(); ++j) {
        for (NodeId a : groups[i]) {
          for (NodeId b : groups[j]) Cut(a, b);
        }
      }
    }
  }

  void CmdCrash(NodeId id) {
    nodes_.at(id).raft.reset();
    std::erase_if(queue_, [&](const Message& m) { return m.from == id || m.to == id; });
  }

  void CmdConfChange(const std::string& cmd, NodeId on, NodeId target) {
    ConfChange cc;
    cc.node = target;
    cc.type = cmd == "promote" ? ConfChangeType::kAddVoter : ConfChangeType::kAddLearner;
    Guard([&] { At(on).ProposeConfChange(cc); });
    if (cmd == "add-learner" && nodes_.count(target) == 0) {
      ConfState conf = nodes_.at(on).storage->InitialState().conf_state;
      conf.learners.push_back(target);
      std::sort(conf.learners.begin(), conf.learners.end());
      AddNode(target, conf);
    }
  }

  void CmdStatus() {
    for (const auto& [id, n] : nodes_) {
      if (!n.raft) {
        out_ << id << ": down\n";
        continue;
      }
      const RaftStatus s = n.raft->Status();
      out_ << id << ": " << RoleName(s.role) << " term=" << s.term << " leader=" << s.leader << " commit=" << s.commit
           << " applied=" << s.applied << " voters=" << Join(s.voters);
      if (!s.learners.empty()) out_ << " learners=" << Join(s.learners);
      out_ << "\n";
    }
  }

  void CmdLog(NodeId id) {
    const MemoryStorage& st = *nodes_.at(id).storage;
    const Snapshot snap = st.CurrentSnapshot();
    if (!snap.Empty()) out_ << "snapshot " << snap.meta.index << "/" << snap.meta.term << " " << snap.data << "\n";
    if (st.LastIndex() < st.FirstIndex()) {
      out_ << "no entries\n";
      return;
    }
    out_ << FormatEntries(st.Entries(st.FirstIndex(), st.LastIndex() + 1, UINT64_MAX)) << "\n";
  }

  void ProcessReadys() {
    for (auto& [id, n] : nodes_) {
      if (!n.raft) continue;
      while (n.raft->HasReady()) {
        Ready ready = n.raft->GetReady();
        if (!ready.snapshot.Empty()) {
          n.storage->ApplySnapshot(ready.snapshot);
          n.applied = ready.snapshot.meta.index;
        }
        n.storage->Append(ready.entries);
        if (ready.hard_state) n.storage->SetHardState(*ready.hard_state);
        for (Message& m : ready.messages) queue_.push_back(std::move(m));
        for (const Entry& e : ready.committed_entries) {
          if (e.type == EntryType::kConfChange) {
            n.storage->SetConfState(n.raft->ApplyConfChange(DecodeConfChange(e.data.view())));
          } else if (!e.data.empty()) {
            n.data.push_back(e.data.str());
          }
          n.applied = e.index;
        }
        n.raft->Advance();
        const std::string state = StateLine(*n.raft);
        if (state != n.last_state) {
          n.last_state = state;
          out_ << id << ": " << n.last_state << "\n";
        }
      }
    }
  }

  void DeliverRound() {
    std::deque<Message> batch;
    batch.swap(queue_);
    for (const Message& m : batch) {
      auto to = nodes_.find(m.to);
      const bool up = to != nodes_.end() && to->second.raft;
      const bool delivered = up && cut_.count({m.from, m.to}) == 0;
      out_ << FormatMessage(m) << (delivered ? "" : " DROPPED") << "\n";
      if (delivered) to->second.raft->Step(m);
      auto from = nodes_.find(m.from);
      if (m.type == MessageType::kSnapshot && from != nodes_.end() && from->second.raft) {
        from->second.raft->ReportSnapshot(m.to, delivered);
      }
      ProcessReadys();
    }
  }

  void Stabilize() {
    for (int round = 0; round < 1000; ++round) {
      ProcessReadys();
      if (queue_.empty()) return;
      DeliverRound();
    }
    ADD_FAILURE() << "cluster did not stabilize";
  }

  std::map<NodeId, Node> nodes_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::deque<Message> queue_;
  std::ostringstream out_;
  bool pre_vote_ = false;
  bool check_quorum_ = false;
  uint64_t max_bytes_ = 1u << 20;
};

// Runs one file; returns it with every expected block replaced by the actual output.
std::string RunFile(const std::string& path, const std::string& text) {
  std::vector<std::string> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  Cluster cluster;
  std::string rewritten;
  size_t i = 0;
  while (i < lines.size()) {
    if (lines[i].empty() || lines[i][0] == '#') {
      rewritten += lines[i++] + "\n";
      continue;
    }
    const size_t block_line = i + 1;
    std::string actual;
    while (i < lines.size() && lines[i] != "----") {
      rewritten += lines[i] + "\n";
      actual += cluster.Run(lines[i++]);
    }
    if (i == lines.size()) {
      ADD_FAILURE() << path << ":" << block_line << ": block without ----";
      break;
    }
    rewritten += lines[i++] + "\n";
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) expected += lines[i++] + "\n";
    if (actual.empty()) actual = "ok\n";
    rewritten += actual;
    EXPECT_EQ(expected, actual) << path << ":" << block_line;
  }
  return rewritten;
}

class RaftDataDrivenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RaftDataDrivenTest, Scenario) {
  const std::string path = std::string(PHANTOM_TESTDATA_DIR) + "/raft/" + GetParam();
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string rewritten = RunFile(path, buffer.str());
  const char* rewrite = std::getenv("PHANTOM_REWRITE");
  if (rewrite != nullptr && std::string(rewrite) == "1" && rewritten != buffer.str()) {
    std::ofstream(path) << rewritten;
  }
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PHANTOM_TESTDATA_DIR) + "/raft")) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Files, RaftDataDrivenTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace phantom::raft
