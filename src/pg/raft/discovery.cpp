// Seeds and the discovery URL; see discovery.hpp.
#include "pg/raft/discovery.hpp"

#include <curl/curl.h>

#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/metadata/seeds.hpp"
#include "pg/guard.hpp"
#include "pg/local_node.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/settings.hpp"

namespace phantom::pg::discovery {

namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;

std::string last_problem;

void Note(const std::string& problem) {
  if (problem == last_problem) return;
  last_problem = problem;
  ereport(LOG, (errmsg("phantomdb discovery: %s", problem.c_str())));
}

size_t Collect(char* data, size_t size, size_t count, void* body) {
  auto* text = static_cast<std::string*>(body);
  if (text->size() + size * count > kMaxBodyBytes) return 0;  // makes curl fail: too large
  text->append(data, size * count);
  return size * count;
}

// The seeds the discovery URL lists; throws phantom::Error when it cannot be
// fetched or parsed.
std::vector<metadata::SeedAddress> FetchSeeds(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw Error(sqlstate::kInternalError, "could not initialise libcurl");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(node_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK)
    throw Error(sqlstate::kSqlclientUnableToEstablishSqlconnection,
                "could not fetch phantomdb.discovery_url " + url + ": " + curl_easy_strerror(code));
  return metadata::ParseSeedsJson(body);
}

}  // namespace

void TryAutoJoin() {
  if (!auto_join) return;
  const std::string seed_list = seeds ? seeds : "";
  const std::string url = discovery_url ? discovery_url : "";
  if (seed_list.empty() && url.empty()) return;
  std::vector<metadata::SeedAddress> candidates;
  try {
    candidates = metadata::ParseSeeds(seed_list);
    if (!url.empty())
      for (const metadata::SeedAddress& seed : FetchSeeds(url)) candidates.push_back(seed);
  } catch (const Error& error) {
    Note(error.Message());
  }
  const LocalNode self = DescribeLocalNode();
  for (const metadata::SeedAddress& seed : candidates) {
    if (seed.host == self.host && seed.port == self.port) continue;
    try {
      NodeConnection connection = NodeConnection::Open(seed.host, seed.port);
      connection.Query(
          "SELECT phantomdb.request_join($1, $2, $3, 'default')",
          {self.host, std::to_string(self.port), self.name.value_or(metadata::NodeAddress(self.host, self.port))});
      ereport(LOG, (errmsg("phantomdb discovery: asked %s to add this node",
                           metadata::NodeAddress(seed.host, seed.port).c_str())));
      last_problem.clear();
      return;
    } catch (const Error& error) {
      Note("seed " + metadata::NodeAddress(seed.host, seed.port) + ": " + error.Message() +
           (error.Detail().empty() ? "" : ": " + error.Detail()));
    }
  }
}

}  // namespace phantom::pg::discovery
