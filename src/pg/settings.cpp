// Definitions of the phantomdb.* GUCs; the prefix is reserved so a typo in a
// setting name is an error rather than a silently ignored placeholder.
#include "pg/settings.hpp"

#include "core/common/error.hpp"
#include "core/metadata/seeds.hpp"
#include "core/metadata/voter_policy.hpp"
#include "pg/postgres.hpp"
#include "pg/transactions/fault_injection.hpp"

extern "C" {
#include "libpq-fe.h"
#include "utils/guc.h"
}

namespace phantom::pg {

char* node_conninfo = nullptr;
int node_timeout_ms = 5000;
bool node_session = false;
int metadata_index = 0;
int default_shard_count = 32;
int max_connections_per_node = 1;
char* advertise_host = nullptr;
char* node_name = nullptr;
int prepared_recovery_interval_ms = 1000;
int deadlock_detection_interval_ms = 1000;
int saga_max_attempts = 5;
int saga_retry_base_ms = 500;
int saga_retry_max_ms = 30000;
int raft_election_timeout_ms = 1000;
int heartbeat_interval_ms = 100;
int raft_voters = 3;
int raft_snapshot_entries = 1000;
char* seeds = nullptr;
bool auto_join = true;
char* discovery_url = nullptr;

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

bool CheckRaftVoters(int* value, void** extra, GucSource source) {
  try {
    metadata::ValidateDesiredVoters(*value);
  } catch (const Error& error) {
    GUC_check_errdetail("%s", error.Detail().c_str());
    GUC_check_errhint("%s", error.Hint().c_str());
    return false;
  }
  return true;
}

bool CheckSeeds(char** value, void** extra, GucSource source) {
  if (*value == nullptr) return true;
  try {
    metadata::ParseSeeds(*value);
  } catch (const Error& error) {
    GUC_check_errdetail("%s", error.what());
    return false;
  }
  return true;
}

}  // namespace

void DefineSettings() {
  DefineCustomStringVariable("phantomdb.node_conninfo", "Extra libpq options for connections between nodes.",
                             "For example sslmode=verify-full sslrootcert=/path/root.crt. Host, port and "
                             "database come from the cluster catalog.",
                             &node_conninfo, "", PGC_SUSET, 0, CheckNodeConninfo, nullptr, nullptr);
  DefineCustomBoolVariable("phantomdb.node_session", "Marks a connection one node opened to another (internal).",
                           "DDL on such a connection applies to this node only: the node that sent it propagates "
                           "it. Set by PhantomDB when it connects; setting it by hand makes DDL skip the cluster.",
                           &node_session, false, PGC_BACKEND, GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL, nullptr, nullptr,
                           nullptr);
  DefineCustomIntVariable("phantomdb.metadata_index",
                          "The metadata log index the node sending this session's shard commands routed by "
                          "(internal).",
                          "The commands wait until this node applied as much, and refuse shards it does not hold "
                          "at that index.",
                          &metadata_index, 0, 0, INT_MAX, PGC_USERSET, GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL, nullptr,
                          nullptr, nullptr);
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
  // Raft timing is read when the raft worker starts: a reload reaches it at
  // its next start (restart the server, or re-create its cluster membership).
  DefineCustomIntVariable("phantomdb.raft_election_timeout_ms",
                          "How long a follower hears nothing from the metadata leader before it stands for election.",
                          "Each follower waits between one and two timeouts, at random, so that one usually wins.",
                          &raft_election_timeout_ms, 1000, 50, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("phantomdb.heartbeat_interval_ms",
                          "How often the metadata leader heartbeats its followers; also the raft worker's tick.",
                          "Keep it well below phantomdb.raft_election_timeout_ms.", &heartbeat_interval_ms, 100, 10,
                          10000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.raft_voters", "How many nodes vote in the metadata Raft group.",
                          "An odd number up to 7; the other nodes are learners that still apply the metadata log. "
                          "Fewer healthy nodes than this: as many voters as keeps the count odd.",
                          &raft_voters, 3, 1, 7, PGC_SIGHUP, 0, CheckRaftVoters, nullptr, nullptr);
  DefineCustomIntVariable("phantomdb.raft_snapshot_entries",
                          "How many metadata log entries a node keeps before it replaces them by a catalog snapshot.",
                          "A node further behind than the log reaches catches up from the snapshot.",
                          &raft_snapshot_entries, 1000, 2, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("phantomdb.seeds",
                             "host:port of cluster nodes a new node asks to be added to their cluster.",
                             "A comma-separated list; used while this node belongs to no cluster and "
                             "phantomdb.auto_join is on.",
                             &seeds, "", PGC_SIGHUP, 0, CheckSeeds, nullptr, nullptr);
  DefineCustomBoolVariable("phantomdb.auto_join",
                           "Whether a node in no cluster asks the nodes of phantomdb.seeds (and "
                           "phantomdb.discovery_url) to add it.",
                           nullptr, &auto_join, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("phantomdb.discovery_url",
                             "A URL returning a JSON array of \"host:port\" strings: more seeds, fetched with libcurl.",
                             nullptr, &discovery_url, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  fault_injection::DefineSetting();
  MarkGUCPrefixReserved("phantomdb");
}

}  // namespace phantom::pg
