// Deadlock victims; see deadlock.hpp.
#include "core/transactions/deadlock.hpp"

#include <algorithm>
#include <iterator>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/common/pure.hpp"

namespace phantom::transactions {

namespace {

// The wait-for graph over dense indices, with the strongly connected
// components of any subset of its live transactions on demand.
class WaitForGraph {
 public:
  WaitForGraph(const std::vector<WaitEdge>& edges, const std::vector<TransactionInfo>& transactions) {
    std::unordered_map<TransactionId, int> index_of;
    for (const WaitEdge& edge : edges) {
      if (edge.waiter == edge.holder) continue;
      for (const TransactionId& id : {edge.waiter, edge.holder})
        if (index_of.emplace(id, 0).second) ids_.push_back(id);
    }
    // Indices follow TransactionId order, not input order, so that nothing
    // below can depend on how the glue happened to list the edges.
    std::sort(ids_.begin(), ids_.end());
    for (size_t i = 0; i < ids_.size(); i++) index_of[ids_[i]] = static_cast<int>(i);

    successors_.resize(ids_.size());
    for (const WaitEdge& edge : edges)
      if (edge.waiter != edge.holder) successors_[index_of[edge.waiter]].push_back(index_of[edge.holder]);
    for (std::vector<int>& next : successors_) {
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
    }

    RankByAge(index_of, transactions);
    alive_.assign(ids_.size(), true);
    scope_.assign(ids_.size(), 0);
    order_.assign(ids_.size(), -1);
    low_.assign(ids_.size(), 0);
    on_stack_.assign(ids_.size(), false);
  }

  size_t size() const { return ids_.size(); }
  const TransactionId& id(int v) const { return ids_[v]; }
  void Remove(int v) { alive_[v] = false; }

  // The member of nodes that is youngest (highest age rank).
  int Youngest(const std::vector<int>& nodes) const {
    return *std::max_element(nodes.begin(), nodes.end(), [&](int a, int b) { return age_rank_[a] < age_rank_[b]; });
  }
  int AgeRank(int v) const { return age_rank_[v]; }

  // The strongly connected components of more than one member of the graph
  // restricted to the live members of nodes. Only those can hold a cycle,
  // since self-edges were dropped. Iterative Tarjan: a long cycle of
  // thousands of transactions must not exhaust the stack.
  std::vector<std::vector<int>> CyclicComponents(const std::vector<int>& nodes) {
    stamp_++;
    for (int v : nodes) {
      if (!alive_[v]) continue;
      scope_[v] = stamp_;
      order_[v] = -1;
      on_stack_[v] = false;
    }
    std::vector<std::vector<int>> components;
    std::vector<int> stack;
    std::vector<std::pair<int, size_t>> calls;  // node, next successor to try
    int counter = 0;
    auto visit = [&](int v) {
      order_[v] = low_[v] = counter++;
      stack.push_back(v);
      on_stack_[v] = true;
      calls.emplace_back(v, 0);
    };
    for (int root : nodes) {
      if (!InScope(root) || order_[root] != -1) continue;
      visit(root);
      while (!calls.empty()) {
        const int v = calls.back().first;
        const size_t position = calls.back().second++;
        if (position < successors_[v].size()) {
          const int w = successors_[v][position];
          if (!InScope(w)) continue;
          if (order_[w] == -1)
            visit(w);
          else if (on_stack_[w])
            low_[v] = std::min(low_[v], order_[w]);
          continue;
        }
        calls.pop_back();
        if (!calls.empty()) {
          const int parent = calls.back().first;
          low_[parent] = std::min(low_[parent], low_[v]);
        }
        if (low_[v] != order_[v]) continue;
        std::vector<int> component;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack_[w] = false;
          component.push_back(w);
        } while (w != v);
        if (component.size() > 1) components.push_back(std::move(component));
      }
    }
    return components;
  }

 private:
  bool InScope(int v) const { return alive_[v] && scope_[v] == stamp_; }

  // age_rank_: 0 for the oldest. Unknown ages sort before every known one,
  // so one is chosen only from a component with no known member.
  void RankByAge(const std::unordered_map<TransactionId, int>& index_of,
                 const std::vector<TransactionInfo>& transactions) {
    std::vector<bool> known(ids_.size(), false);
    std::vector<int64_t> start(ids_.size(), 0);
    for (const TransactionInfo& info : transactions) {
      auto found = index_of.find(info.id);
      if (found == index_of.end()) continue;
      const int v = found->second;
      start[v] = known[v] ? std::max(start[v], info.start_us) : info.start_us;
      known[v] = true;
    }
    std::vector<int> by_age(ids_.size());
    for (size_t i = 0; i < by_age.size(); i++) by_age[i] = static_cast<int>(i);
    // Indices are in TransactionId order, so comparing them breaks ties by id.
    std::sort(by_age.begin(), by_age.end(), [&](int a, int b) {
      return std::make_tuple(known[a], start[a], a) < std::make_tuple(known[b], start[b], b);
    });
    age_rank_.resize(ids_.size());
    for (size_t rank = 0; rank < by_age.size(); rank++) age_rank_[by_age[rank]] = static_cast<int>(rank);
  }

  std::vector<TransactionId> ids_;
  std::vector<std::vector<int>> successors_;
  std::vector<int> age_rank_;
  std::vector<bool> alive_;
  // Tarjan state, valid for the members stamped with the current stamp_.
  std::vector<uint64_t> scope_;
  uint64_t stamp_ = 0;
  std::vector<int> order_;
  std::vector<int> low_;
  std::vector<bool> on_stack_;
};

}  // namespace

std::vector<WaitEdge> ConfirmedEdges(const std::vector<WaitEdge>& previous, const std::vector<WaitEdge>& current) {
  auto sorted_unique = [](std::vector<WaitEdge> edges) {
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    return edges;
  };
  const std::vector<WaitEdge> before = sorted_unique(previous);
  const std::vector<WaitEdge> now = sorted_unique(current);
  std::vector<WaitEdge> confirmed;
  std::set_intersection(before.begin(), before.end(), now.begin(), now.end(), std::back_inserter(confirmed));
  return confirmed;
}

std::vector<TransactionId> ChooseDeadlockVictims(const std::vector<WaitEdge>& edges,
                                                 const std::vector<TransactionInfo>& transactions) {
  WaitForGraph graph(edges, transactions);
  std::vector<int> everyone(graph.size());
  for (size_t i = 0; i < everyone.size(); i++) everyone[i] = static_cast<int>(i);

  // Components are disjoint and removing a member of one cannot create a
  // cycle anywhere, so each is broken on its own; taking them by their
  // youngest member, youngest first, makes every step cancel the youngest
  // transaction on any cycle of the remaining graph.
  std::vector<std::vector<int>> components;
  std::priority_queue<std::pair<int, size_t>> by_youngest;  // age rank of the youngest, component
  auto add = [&](std::vector<std::vector<int>> found) {
    for (std::vector<int>& component : found) {
      by_youngest.emplace(graph.AgeRank(graph.Youngest(component)), components.size());
      components.push_back(std::move(component));
    }
  };
  add(graph.CyclicComponents(everyone));

  std::vector<TransactionId> victims;
  while (!by_youngest.empty()) {
    std::vector<int> component = std::move(components[by_youngest.top().second]);
    by_youngest.pop();
    const int victim = graph.Youngest(component);
    victims.push_back(graph.id(victim));
    graph.Remove(victim);
    add(graph.CyclicComponents(component));
  }
  return victims;
}

}  // namespace phantom::transactions
