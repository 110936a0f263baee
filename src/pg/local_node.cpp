// This node's own identity; see local_node.hpp.
#include "pg/local_node.hpp"

#include <unistd.h>

#include <climits>

#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/xlog.h"
#include "postmaster/postmaster.h"
#include "utils/guc.h"
}

namespace phantom::pg {

namespace {

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Without phantomdb.advertise_host: the first address the server listens on,
// unless that is a wildcard, in which case the machine's host name.
std::string DefaultHost() {
  const char* listen = PgCall([] { return GetConfigOption("listen_addresses", false, false); });
  const std::string addresses = listen ? listen : "";
  const std::string first = Trim(addresses.substr(0, addresses.find(',')));
  if (!first.empty() && first != "*" && first != "0.0.0.0" && first != "::") return first;
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') return name;
  return "localhost";
}

}  // namespace

metadata::AddNodeRequest LocalNode::AsRequest() const {
  metadata::AddNodeRequest request;
  request.host = host;
  request.port = port;
  request.name = name;
  request.region = "default";
  request.role = "primary";
  return request;
}

LocalNode DescribeLocalNode() {
  LocalNode self;
  self.host = (advertise_host != nullptr && advertise_host[0] != '\0') ? std::string(advertise_host) : DefaultHost();
  self.port = PostPortNumber;
  if (node_name != nullptr && node_name[0] != '\0') self.name = std::string(node_name);
  self.system_identifier = std::to_string(GetSystemIdentifier());
  spi::Execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'phantomdb'");
  if (spi::RowCount() > 0) self.extension_version = spi::GetText(0, 0);
  return self;
}

}  // namespace phantom::pg
