// See linearizability.hpp.
#include "linearizability.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace phantom::lincheck {

namespace {

struct KeyOp {
  size_t history_index;  // for explanations
  const Operation* op;
  int value;  // interned; 0 is "", the initial value
};

struct SearchState {
  std::vector<uint64_t> linearized;  // bitset over KeyOp positions
  int value;
  bool operator==(const SearchState&) const = default;
};

struct SearchStateHash {
  size_t operator()(const SearchState& state) const {
    size_t hash = std::hash<int>()(state.value);
    for (uint64_t word : state.linearized) hash = hash * 1000003u ^ std::hash<uint64_t>()(word);
    return hash;
  }
};

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

std::string Describe(const KeyOp& key_op) {
  const Operation& op = *key_op.op;
  std::string text = "#" + std::to_string(key_op.history_index) + " client " + std::to_string(op.client) + " ";
  text += op.kind == OpKind::kWrite ? "write " + Quote(op.value) : "read -> " + Quote(op.value);
  text += " [" + std::to_string(op.call_time) + ", " +
          (op.return_time == kNeverReturned ? std::string("never returned") : std::to_string(op.return_time)) + "]";
  return text;
}

enum class SearchOutcome { kFound, kExhausted, kOutOfBudget };

// The search for one key's register.
class KeySearch {
 public:
  KeySearch(std::vector<KeyOp> ops, uint64_t& steps_left) : ops_(std::move(ops)), steps_left_(steps_left) {
    // By call time, so the candidates for "next" are a prefix of the
    // unlinearized operations.
    std::stable_sort(ops_.begin(), ops_.end(),
                     [](const KeyOp& a, const KeyOp& b) { return a.op->call_time < b.op->call_time; });
    for (const KeyOp& op : ops_)
      if (op.op->return_time != kNeverReturned) completed_++;
    linearized_.assign((ops_.size() + 63) / 64, 0);
  }

  SearchOutcome Run() { return Search(0, 0); }

  // Where the deepest partial order ended, for the explanation.
  std::string ExplainFailure(const std::vector<std::string>& values) const {
    std::string text = "no linearization of " + std::to_string(ops_.size()) +
                       " operation(s); the longest valid order (" + std::to_string(best_order_.size()) + ") is:";
    for (size_t position : best_order_) text += "\n  " + Describe(ops_[position]);
    text += "\nleaving the register at " + Quote(values[best_value_]) + ", after which none of these can take effect:";
    std::vector<uint64_t> done((ops_.size() + 63) / 64, 0);
    for (size_t position : best_order_) done[position / 64] |= uint64_t{1} << (position % 64);
    int64_t bound = MinReturn(done);
    for (size_t i = 0; i < ops_.size() && ops_[i].op->call_time <= bound; i++)
      if (!(done[i / 64] >> (i % 64) & 1)) text += "\n  " + Describe(ops_[i]);
    return text;
  }

 private:
  bool IsLinearized(const std::vector<uint64_t>& set, size_t i) const { return set[i / 64] >> (i % 64) & 1; }

  // An operation can take effect next only if no unlinearized operation
  // returned before it was called.
  int64_t MinReturn(const std::vector<uint64_t>& set) const {
    int64_t bound = kNeverReturned;
    for (size_t i = 0; i < ops_.size(); i++)
      if (!IsLinearized(set, i)) bound = std::min(bound, ops_[i].op->return_time);
    return bound;
  }

  SearchOutcome Search(size_t completed_done, int value) {
    // Unlinearized operations that never returned can all take effect after
    // everything else, where no read sees them.
    if (completed_done == completed_) return SearchOutcome::kFound;
    if (!seen_.insert(SearchState{linearized_, value}).second) return SearchOutcome::kExhausted;
    if (steps_left_ == 0) return SearchOutcome::kOutOfBudget;
    steps_left_--;
    if (order_.size() > best_order_.size() || best_order_.empty()) {
      best_order_ = order_;
      best_value_ = value;
    }

    int64_t bound = MinReturn(linearized_);
    for (size_t i = 0; i < ops_.size() && ops_[i].op->call_time <= bound; i++) {
      if (IsLinearized(linearized_, i)) continue;
      const KeyOp& candidate = ops_[i];
      if (candidate.op->kind == OpKind::kRead && candidate.value != value) continue;
      int next_value = candidate.op->kind == OpKind::kWrite ? candidate.value : value;
      linearized_[i / 64] |= uint64_t{1} << (i % 64);
      order_.push_back(i);
      SearchOutcome outcome =
          Search(completed_done + (candidate.op->return_time != kNeverReturned ? 1 : 0), next_value);
      order_.pop_back();
      linearized_[i / 64] &= ~(uint64_t{1} << (i % 64));
      if (outcome != SearchOutcome::kExhausted) return outcome;
    }
    return SearchOutcome::kExhausted;
  }

  std::vector<KeyOp> ops_;
  uint64_t& steps_left_;
  size_t completed_ = 0;
  std::vector<uint64_t> linearized_;
  std::vector<size_t> order_;
  std::unordered_set<SearchState, SearchStateHash> seen_;
  std::vector<size_t> best_order_;
  int best_value_ = 0;
};

}  // namespace

CheckResult CheckLinearizable(const std::vector<Operation>& history, const CheckOptions& options) {
  std::map<std::string, std::vector<KeyOp>> by_key;  // ordered, so explanations are deterministic
  std::map<std::string, std::vector<std::string>> values_by_key;
  std::map<std::string, std::unordered_map<std::string, int>> value_ids_by_key;
  for (size_t i = 0; i < history.size(); i++) {
    const Operation& op = history[i];
    if (op.return_time < op.call_time)
      throw std::invalid_argument("operation #" + std::to_string(i) + " returns at " + std::to_string(op.return_time) +
                                  " before its call at " + std::to_string(op.call_time));
    if (op.kind == OpKind::kRead && op.return_time == kNeverReturned) continue;
    std::vector<std::string>& values = values_by_key[op.key];
    std::unordered_map<std::string, int>& ids = value_ids_by_key[op.key];
    if (values.empty()) {
      values.push_back("");
      ids[""] = 0;
    }
    auto [it, inserted] = ids.emplace(op.value, static_cast<int>(values.size()));
    if (inserted) values.push_back(op.value);
    by_key[op.key].push_back(KeyOp{i, &op, it->second});
  }

  uint64_t steps_left = options.max_steps;
  for (auto& [key, ops] : by_key) {
    KeySearch search(std::move(ops), steps_left);
    switch (search.Run()) {
      case SearchOutcome::kFound:
        break;
      case SearchOutcome::kExhausted:
        return CheckResult{false, Verdict::kNotLinearizable,
                           "key " + Quote(key) + ": " + search.ExplainFailure(values_by_key[key])};
      case SearchOutcome::kOutOfBudget:
        return CheckResult{false, Verdict::kUnknown,
                           "key " + Quote(key) + ": gave up after " + std::to_string(options.max_steps) +
                               " search step(s) without deciding"};
    }
  }
  return CheckResult{true, Verdict::kLinearizable, ""};
}

}  // namespace phantom::lincheck
