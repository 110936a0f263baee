// Definitions of the phantomdb.* GUCs; the prefix is reserved so a typo in a
// setting name is an error rather than a silently ignored placeholder.
#include "pg/settings.hpp"

#include "pg/postgres.hpp"
#include "pg/transactions/fault_injection.hpp"

extern "C" {
#include "libpq-fe.h"
#include "utils/guc.h"
}

namespace phantom::pg {

char* node_conninfo = nullptr;
int node_timeout_ms = 5000;
int default_shard_count = 32;
int max_connections_per_node = 1;
char* advertise_host = nullptr;
char* node_name = nullptr;
int prepared_recovery_interval_ms = 1000;
int deadlock_detection_interval_ms = 1000;
int saga_max_attempts = 5;
int saga_retry_base_ms = 500;
int saga_retry_max_ms = 30000;

namespace {

// Node addresses come from the catalog; letting node_conninfo override them
// would send one node's traffic to another.
const char* const kForbiddenConninfoKeys[] = {"host", "hostaddr", "port", "dbname", "service"};

bool CheckNodeConninfo(char** value, void** extra, GucSource source) {
  if (*value == nullptr || **value == '\0') return true;
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(*value, &parse_error);
  if (options == nullptr) {
    // libpq's message ends in a newline; the log line should not.
    if (parse_error) parse_error[strcspn(parse_error, "\n")] = '\0';
    GUC_check_errmsg("invalid phantomdb.node_conninfo: %s", parse_error ? parse_error : "out of memory");
    if (parse_error) PQfreemem(parse_error);
    return false;
  }
  bool ok = true;
  for (PQconninfoOption* option = options; option->keyword != nullptr && ok; option++) {
    if (option->val == nullptr) continue;
    for (const char* forbidden : kForbiddenConninfoKeys) {
      if (strcmp(option->keyword, forbidden) == 0) {
        GUC_check_errmsg("phantomdb.node_conninfo must not set \"%s\"", forbidden);
        GUC_check_errdetail("Node addresses and the database come from the cluster catalog.");
        ok = false;
        break;
      }
    }
  }
  PQconninfoFree(options);
  return ok;
}

}  // namespace

void DefineSettings() {
  DefineCustomStringVariable("phantomdb.node_conninfo", "Extra libpq options for connections between nodes.",
                             "For example sslmode=verify-full sslrootcert=/path/root.crt. Host, port and "
                             "database come from the cluster catalog.",
                             &node_conninfo, "", PGC_SUSET, 0, CheckNodeConninfo, nullptr, nullptr);
  DefineCustomIntVariable(
      "phantomdb.node_timeout_ms", "How long a node may take to accept a connection or answer an administrative call.",
      nullptr, &node_timeout_ms, 5000, 100, 3600 * 1000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.shard_count",
                          "Shards of a new distributed table when phantom_create_distributed_table is not told.",
                          nullptr, &default_shard_count, 32, 1, 4096, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.max_connections_per_node",
                          "Connections one statement may use to each node to read its shards in parallel.",
                          "Outside a transaction block a multi-shard read splits each node's shards over up to this "
                          "many connections (this node's own shards over SPI and loopback connections). Inside a "
                          "block every node's work uses the block's one connection, which sees its writes.",
                          &max_connections_per_node, 1, 1, 64, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("phantomdb.advertise_host", "The host name or address other nodes use to reach this node.",
                             "Empty: the first entry of listen_addresses, or the machine's host name when "
                             "listen_addresses is a wildcard.",
                             &advertise_host, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("phantomdb.node_name", "The name this node registers itself under.", "Empty: host:port.",
                             &node_name, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.max_prepared_recovery_interval_ms",
                          "How often the maintenance worker resolves in-doubt prepared transactions.",
                          "The longest a prepared transaction whose coordinator decided stays unresolved while "
                          "every node is up.",
                          &prepared_recovery_interval_ms, 1000, 100, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.distributed_deadlock_interval_ms",
                          "How often the maintenance worker looks for deadlocks that span nodes; 0 disables it.",
                          "A cycle must be seen in two successive looks before a transaction is cancelled.",
                          &deadlock_detection_interval_ms, 1000, 0, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  // Defaults are the core's SagaPolicy defaults.
  DefineCustomIntVariable("phantomdb.saga_max_attempts",
                          "How many times a saga step (or compensation) is tried when it keeps failing transiently.",
                          "A transient failure of the last attempt counts as permanent.", &saga_max_attempts, 5, 1,
                          1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.saga_retry_base_ms", "The backoff before the first retry of a saga step.",
                          "Each further retry waits twice as long, up to phantomdb.saga_retry_max_ms, scaled by a "
                          "random factor between 0.5 and 1.",
                          &saga_retry_base_ms, 500, 1, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.saga_retry_max_ms", "The longest backoff between retries of a saga step.", nullptr,
                          &saga_retry_max_ms, 30000, 1, 24 * 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  fault_injection::DefineSetting();
  MarkGUCPrefixReserved("phantomdb");
}

}  // namespace phantom::pg
