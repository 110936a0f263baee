// A libpq connection from this backend to another node. Connecting and
// querying are asynchronous underneath: the backend waits on its latch and
// the socket, so a query cancel or a deadline interrupts the wait instead of
// hanging the session on a dead peer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "libpq-fe.h"
}

namespace phantom::pg {

using RemoteRow = std::vector<std::optional<std::string>>;

class NodeConnection {
 public:
  // Connects to host:port, to the database of the same name as the current
  // one, as the current user, with phantomdb.node_conninfo applied. Throws
  // phantom::Error 08001 naming the node when it is refused or does not
  // answer within phantomdb.node_timeout_ms.
  static NodeConnection Open(const std::string& host, int32_t port);

  NodeConnection(NodeConnection&& other) noexcept;
  NodeConnection& operator=(NodeConnection&&) = delete;
  NodeConnection(const NodeConnection&) = delete;
  ~NodeConnection();  // PQfinish: libpq only, never Postgres

  // Runs one statement with text parameters and returns its rows as text.
  // A remote ERROR is rethrown with the remote SQLSTATE, its message
  // prefixed by the node's address. Bounded by phantomdb.node_timeout_ms.
  std::vector<RemoteRow> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});

  const std::string& Address() const { return address_; }

 private:
  NodeConnection(PGconn* conn, std::string address) : conn_(conn), address_(std::move(address)) {}

  PGconn* conn_;
  std::string address_;
};

}  // namespace phantom::pg
