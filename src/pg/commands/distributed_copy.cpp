// COPY into and out of distributed and reference tables; see
// distributed_copy.hpp and docs/distributed-tables.md, "COPY".
//
// COPY FROM parses the input with Postgres's own COPY code on the shell
// table (so formats, options, defaults for missing columns and the "COPY t,
// line N" context are Postgres's), puts each row in COPY text form (the
// input line itself when it already is one) into a buffer per shard, and ships full buffers as batches: remote shards
// through `COPY shard FROM STDIN` on the node's connection, local shards through CopyFrom on the shard table in this
// backend. Each node runs one COPY at a time; a small state machine per node switches between shards without waiting,
// so parsing goes on while every node inserts.
//
// COPY TO reads every shard in shard order and relays the bytes: remote
// shards through `COPY shard TO STDOUT` on the node, local shards through
// Postgres's own COPY TO on the shard with its protocol messages captured.
#include "pg/commands/distributed_copy.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/sharding/shard_map.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/remote/copy_text.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include <sys/stat.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/wait_event.h"

// libpq/libpq.h (PQcommMethods, the protocol's send methods) pulls in
// libpq-be.h and with it the GSSAPI headers, which the build host need not
// have; these are its declarations, unchanged since PostgreSQL 14.
typedef struct {
  void (*comm_reset)(void);
  int (*flush)(void);
  int (*flush_if_writable)(void);
  bool (*is_send_pending)(void);
  int (*putmessage)(char msgtype, const char* s, size_t len);
  void (*putmessage_noblock)(char msgtype, const char* s, size_t len);
} PQcommMethods;
extern PGDLLIMPORT const PQcommMethods* PqCommMethods;
}

namespace phantom::pg {

namespace {

using metadata::NodeId;
using metadata::ShardRecord;

// A shard's buffer is shipped once it holds this much: large enough that the
// per-batch costs (a COPY switch on a node, a CopyFrom setup for a local
// shard) vanish, small enough that 32 shards' buffers stay a few MB.
constexpr size_t kBatchBytes = 256 * 1024;
// Batches waiting for a busy node; past this the parser waits for the nodes.
constexpr size_t kQueuedBytesLimit = 16 * 1024 * 1024;
// A remote COPY is ended and a new one begun after this many rows, which
// bounds the line numbers kept for its errors.
constexpr size_t kMaxRowsPerRemoteCopy = 1 << 20;
// Shards placed only here take bigger batches: each costs a CopyFrom setup
// in this backend, and no node waits for them.
constexpr size_t kLocalBatchBytes = 1024 * 1024;
// Rows between memory context resets and interrupt checks.
constexpr int kRowsPerReset = 1000;

// The output settings rows are encoded under. Nodes parse what we send with
// DateStyle ISO, IntervalStyle postgres (connection_pool.cpp), so values must
// be written that way whatever this session uses, and floats exactly. These
// are plain globals, switched around the output calls only: the user's
// settings still govern how the input is read (DateOrder is left alone).
struct OutputStyle {
  int date_style = USE_ISO_DATES;
  int interval_style = INTSTYLE_POSTGRES;
  int float_digits = 3;

  static OutputStyle Swap(const OutputStyle& to) {
    OutputStyle from{DateStyle, IntervalStyle, extra_float_digits};
    DateStyle = to.date_style;
    IntervalStyle = to.interval_style;
    extra_float_digits = to.float_digits;
    return from;
  }
};

std::string QuoteIdentifier(const char* name) {
  return PgCall([&] { return quote_identifier(name); });
}

// Replaces "COPY <from>, line N" in a context text by "COPY <to>, line M",
// where M = lines[N - 1] is the line of the user's input that became line N
// of a batch. Anything after the line number (", column c: ...") stays.
std::string TranslateContext(const char* context, const std::string& from, const std::string& to,
                             const std::vector<uint64_t>& lines) {
  std::string text = context ? context : "";
  const std::string prefix = "COPY " + from + ", line ";
  size_t at = text.find(prefix);
  if (at == std::string::npos) return text;
  size_t digits = at + prefix.size();
  size_t end = digits;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') end++;
  uint64_t batch_line = std::strtoull(text.substr(digits, end - digits).c_str(), nullptr, 10);
  std::string line =
      batch_line >= 1 && batch_line <= lines.size() ? std::to_string(lines[batch_line - 1]) : std::string("?");
  return text.substr(0, at) + "COPY " + to + ", line " + line + text.substr(end);
}

// Raises an ERROR with the given parts; context may be empty.
[[noreturn]] void RaiseWithContext(const char* sqlstate, const std::string& message, const std::string& detail,
                                   const std::string& hint, const std::string& context) {
  PgCall([&] {
    const char* s = sqlstate && strlen(sqlstate) == 5 ? sqlstate : "XX000";
    ereport(ERROR,
            (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])), errmsg_internal("%s", message.c_str()),
             detail.empty() ? 0 : errdetail_internal("%s", detail.c_str()),
             hint.empty() ? 0 : errhint("%s", hint.c_str()), context.empty() ? 0 : errcontext("%s", context.c_str())));
  });
  throw Error("XX000", "unreachable");  // ereport(ERROR) does not return
}

// ---------------------------------------------------------------------------
// Permissions, as DoCopy checks them.

void CheckServerFilePrivileges(const CopyStmt* stmt, bool is_from) {
  if (stmt->filename == nullptr) return;
  const Oid user = PgCall([] { return GetUserId(); });
  if (stmt->is_program) {
    if (!PgCall([&] { return has_privs_of_role(user, ROLE_PG_EXECUTE_SERVER_PROGRAM); }))
      throw Error(sqlstate::kInsufficientPrivilege,
                  "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an "
                  "external program",
                  "", "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.");
    return;
  }
  const Oid role = is_from ? ROLE_PG_READ_SERVER_FILES : ROLE_PG_WRITE_SERVER_FILES;
  if (!PgCall([&] { return has_privs_of_role(user, role); }))
    throw Error(sqlstate::kInsufficientPrivilege,
                std::string("must be superuser or have privileges of the ") +
                    (is_from ? "pg_read_server_files role to COPY from a file"
                             : "pg_write_server_files role to COPY to a file"),
                "", "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.");
}

// INSERT or SELECT on the columns the COPY names, and no row level security
// on the shell (Postgres would rewrite COPY TO into a query and refuses COPY
// FROM; shards do not carry the policies, so neither can be honoured here).
void CheckTablePrivileges(Relation relation, List* attnums, bool is_from) {
  PgCall([&] {
    ParseState* pstate = make_parsestate(nullptr);
    ParseNamespaceItem* item = addRangeTableEntryForRelation(
        pstate, relation, is_from ? RowExclusiveLock : AccessShareLock, nullptr, false, false);
    RangeTblEntry* rte = item->p_rte;
    rte->requiredPerms = is_from ? ACL_INSERT : ACL_SELECT;
    ListCell* cell;
    foreach (cell, attnums) {
      int attno = lfirst_int(cell) - FirstLowInvalidHeapAttributeNumber;
      if (is_from)
        rte->insertedCols = bms_add_member(rte->insertedCols, attno);
      else
        rte->selectedCols = bms_add_member(rte->selectedCols, attno);
    }
    ExecCheckRTPerms(pstate->p_rtable, true);
  });
  if (PgCall([&] { return check_enable_rls(RelationGetRelid(relation), InvalidOid, false); }) == RLS_ENABLED)
    throw Error(sqlstate::kFeatureNotSupported,
                std::string("COPY ") + (is_from ? "FROM" : "TO") +
                    " is not supported on a distributed table with row-level security",
                "", is_from ? "Use INSERT statements instead." : "Use COPY (SELECT ...) TO instead.");
}

List* AttnumsOf(Relation relation, List* attlist) {
  return PgCall([&] { return CopyGetAttnums(RelationGetDescr(relation), relation, attlist); });
}

std::string ColumnListOf(Relation relation, List* attnums) {
  std::string list = "(";
  ListCell* cell;
  foreach (cell, attnums) {
    if (list.size() > 1) list += ", ";
    Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(relation), lfirst_int(cell) - 1);
    list += QuoteIdentifier(NameStr(attribute->attname));
  }
  return list + ")";
}

Oid ShardRelid(Oid namespace_oid, const std::string& shard_name) {
  Oid relid = PgCall([&] { return get_relname_relid(shard_name.c_str(), namespace_oid); });
  if (!OidIsValid(relid))
    throw Error("42P01", "shard table \"" + shard_name + "\" does not exist on this node", "",
                "The shard's metadata names this node as a placement; the cluster's metadata and this node disagree.");
  return relid;
}

// ---------------------------------------------------------------------------
// COPY FROM

// A full buffer of one shard, in COPY text form, and the user's input line of
// each of its rows (for errors, which nodes report by line of their COPY).
struct Batch {
  int32_t shard = 0;
  std::string data;
  std::vector<uint64_t> lines;
};

// Where a local shard's CopyFrom reads its batch from; CopyFrom's data
// source callback has no argument, and one CopyFrom runs at a time.
struct LocalSource {
  const char* data = nullptr;
  size_t size = 0;
  size_t offset = 0;
};
LocalSource local_source;

int ReadLocalSource(void* out, int min_read, int max_read) {
  size_t n = std::min(static_cast<size_t>(max_read), local_source.size - local_source.offset);
  memcpy(out, local_source.data + local_source.offset, n);
  local_source.offset += n;
  return static_cast<int>(n);
}

class CopyFromRun {
 public:
  CopyFromRun(std::shared_ptr<const DistributedTable> table, Relation shell, const CopyColumns& columns)
      : table_(std::move(table)), shell_(shell), columns_(columns) {
    namespace_ = RelationGetNamespace(shell);
    schema_ = PgCall([&] { return get_namespace_name(namespace_); });
    table_name_ = RelationGetRelationName(shell);
    local_node_ = metadata_cache::LocalNodeId();
    buffers_.resize(table_->record.shards.size());
    encoding_ = PgCall([] { return GetDatabaseEncodingName(); });
  }

  // The buffer that the next row for shard is appended to.
  Batch& Pending(int32_t shard) {
    Batch& batch = buffers_[shard];
    batch.shard = shard;
    return batch;
  }

  // Ships shard's buffer when it is full (or when `force`).
  void MaybeShip(int32_t shard, bool force) {
    Batch& batch = buffers_[shard];
    const ShardRecord& record = table_->record.shards[shard];
    const bool only_local = record.placements.size() == 1 && record.placements.front() == local_node_;
    if (batch.data.empty() || (!force && batch.data.size() < (only_local ? kLocalBatchBytes : kBatchBytes))) return;
    const bool local =
        std::find(record.placements.begin(), record.placements.end(), local_node_) != record.placements.end();
    size_t remote_left = record.placements.size() - (local ? 1 : 0);
    for (NodeId node : record.placements) {
      if (node == local_node_) continue;
      Stream& stream = StreamFor(node);
      queued_bytes_ += batch.data.size();
      // The last remote placement takes the buffer itself unless this node
      // still needs it.
      if (--remote_left == 0 && !local)
        stream.queue.push_back(std::move(batch));
      else
        stream.queue.push_back(batch);
    }
    // Remote nodes first, so they work while this backend inserts locally.
    PumpAll();
    if (local) CopyLocal(batch);
    batch.data.clear();
    batch.lines.clear();
    while (queued_bytes_ > kQueuedBytesLimit) WaitForProgress();
  }

  // Keeps every node's socket fed; never waits.
  void PumpAll() {
    for (auto& [node, stream] : streams_) Pump(stream, /*block=*/false);
  }

  // Ships what is left and waits for every node to finish.
  void Finish() {
    for (size_t shard = 0; shard < buffers_.size(); shard++) MaybeShip(static_cast<int32_t>(shard), true);
    // Everything handed over first, then every COPY ended, then the waits:
    // the nodes finish their last rows side by side.
    for (auto& [node, stream] : streams_) Pump(stream, /*block=*/true);
    for (auto& [node, stream] : streams_) {
      if (stream.state != State::kCopying) continue;
      Put(stream, [&] { stream.connection->SendCopyEnd(); });
      stream.state = State::kEnding;
    }
    for (auto& [node, stream] : streams_) Pump(stream, /*block=*/true);
  }

  // After an error: the nodes may be mid-COPY; their connections (and remote
  // transactions, which the local abort would roll back anyway) are dropped.
  void Abandon() noexcept {
    for (auto& [node, stream] : streams_) connection_pool::Discard(node);
  }

 private:
  enum class State { kIdle, kStarting, kCopying, kEnding };
  struct Stream {
    NodeId node = 0;
    NodeConnection* connection = nullptr;
    State state = State::kIdle;
    int32_t shard = -1;                // the shard of the COPY running
    std::deque<Batch> queue;           // batches not yet handed to libpq
    std::vector<uint64_t> copy_lines;  // input line of each row of the running COPY
  };

  Stream& StreamFor(NodeId node) {
    auto it = streams_.find(node);
    if (it != streams_.end()) return it->second;
    const CachedNode& cached = metadata_cache::Node(node);
    Stream stream;
    stream.node = node;
    stream.connection = &connection_pool::Acquire(cached, connection_pool::Access::kWriteInTransaction);
    return streams_.emplace(node, std::move(stream)).first->second;
  }

  std::string ShardName(int32_t shard) const { return table_->ShardTableName(table_->record.shards[shard]); }

  // Moves the node's COPYs forward as far as they go without waiting, or
  // (block) until every queued batch is handed to libpq and sent.
  void Pump(Stream& stream, bool block) {
    NodeConnection& connection = *stream.connection;
    for (;;) {
      switch (stream.state) {
        case State::kIdle: {
          if (stream.queue.empty()) return;
          stream.shard = stream.queue.front().shard;
          connection.SendQuery("COPY " + QualifiedName(schema_, ShardName(stream.shard)) + " " + columns_.column_list +
                                   " FROM STDIN WITH (ENCODING '" + encoding_ + "')",
                               {});
          stream.state = State::kStarting;
          break;
        }
        case State::kStarting: {
          if (!block && !connection.ResultReady()) return;
          NodeConnection::Result result = connection.NextResult();
          if (result == nullptr || PQresultStatus(result.get()) != PGRES_COPY_IN) {
            if (result != nullptr) RaiseRemote(stream, result.get());
            throw Error(sqlstate::kConnectionFailure, "node " + connection.Address() + " did not start a COPY");
          }
          stream.state = State::kCopying;
          break;
        }
        case State::kCopying: {
          if (!connection.FlushSome()) {
            if (!block) return;
            Put(stream, [&] { connection.FlushAll(); });
          }
          if (stream.queue.empty()) return;
          Batch& batch = stream.queue.front();
          if (batch.shard != stream.shard || stream.copy_lines.size() >= kMaxRowsPerRemoteCopy) {
            Put(stream, [&] { connection.SendCopyEnd(); });
            stream.state = State::kEnding;
            break;
          }
          Put(stream, [&] { connection.PutCopyData(batch.data.data(), batch.data.size()); });
          stream.copy_lines.insert(stream.copy_lines.end(), batch.lines.begin(), batch.lines.end());
          queued_bytes_ -= batch.data.size();
          stream.queue.pop_front();
          break;
        }
        case State::kEnding: {
          if (!connection.FlushSome()) {
            if (!block) return;
            connection.FlushAll();
          }
          if (!block && !connection.ResultReady()) return;
          NodeConnection::Result result = connection.NextResult();
          if (result != nullptr && PQresultStatus(result.get()) != PGRES_COMMAND_OK) RaiseRemote(stream, result.get());
          while (connection.NextResult() != nullptr) {
          }
          stream.copy_lines.clear();
          stream.shard = -1;
          stream.state = State::kIdle;
          break;
        }
      }
    }
  }

  // Runs a send on a node in COPY; when the node already ended the COPY with
  // an error (libpq then refuses more data), raises that error instead.
  template <typename Fn>
  void Put(Stream& stream, Fn&& fn) {
    try {
      fn();
    } catch (const Error&) {
      NodeConnection& connection = *stream.connection;
      if (connection.Broken()) throw;
      NodeConnection::Result result = connection.NextResult();
      if (result != nullptr && PQresultStatus(result.get()) == PGRES_FATAL_ERROR) RaiseRemote(stream, result.get());
      throw;
    }
  }

  // A node's error, with "COPY <shard>, line N" turned into the user's table
  // and input line.
  [[noreturn]] void RaiseRemote(Stream& stream, const PGresult* result) {
    auto field = [&](int code) {
      const char* value = PQresultErrorField(result, code);
      return std::string(value ? value : "");
    };
    std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = PQresultErrorMessage(result);
    const std::string context =
        TranslateContext(PQresultErrorField(result, PG_DIAG_CONTEXT),
                         stream.shard >= 0 ? ShardName(stream.shard) : std::string(), table_name_, stream.copy_lines);
    const std::string sqlstate = field(PG_DIAG_SQLSTATE);
    RaiseWithContext(sqlstate.empty() ? sqlstate::kConnectionFailure : sqlstate.c_str(),
                     "node " + stream.connection->Address() + ": " + message, field(PG_DIAG_MESSAGE_DETAIL),
                     field(PG_DIAG_MESSAGE_HINT), context);
  }

  // Waits until some node took data off the queues.
  void WaitForProgress() {
    Stream* fullest = nullptr;
    size_t most = 0;
    for (auto& [node, stream] : streams_) {
      size_t bytes = 0;
      for (const Batch& batch : stream.queue) bytes += batch.data.size();
      if (bytes > most) {
        most = bytes;
        fullest = &stream;
      }
    }
    if (fullest == nullptr) return;
    pgsocket socket = fullest->connection->Socket();
    PgCall([&] {
      int rc = WaitLatchOrSocket(
          MyLatch, WL_LATCH_SET | WL_SOCKET_WRITEABLE | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, socket,
          10, PG_WAIT_EXTENSION);
      if (rc & WL_LATCH_SET) ResetLatch(MyLatch);
    });
    CheckForInterrupts();
    PumpAll();
  }

  // Inserts a batch into the shard's table on this node with Postgres's own
  // COPY (indexes, constraints, triggers of the shard apply), in this
  // backend's transaction.
  void CopyLocal(const Batch& batch) {
    const std::string shard_name = ShardName(batch.shard);
    const Oid relid = ShardRelid(namespace_, shard_name);
    local_source = LocalSource{batch.data.data(), batch.data.size(), 0};
    // The batch is in the nodes' output style (OutputStyle); read it that way.
    const OutputStyle user = OutputStyle::Swap(OutputStyle{});
    try {
      PgCall([&] {
        Relation shard = table_open(relid, RowExclusiveLock);
        ParseState* pstate = make_parsestate(nullptr);
        // CopyFrom finds its target as the first range table entry.
        addRangeTableEntryForRelation(pstate, shard, RowExclusiveLock, nullptr, false, false);
        List* names = NIL;
        for (AttrNumber attno : columns_.attnos)
          names =
              lappend(names, makeString(pstrdup(NameStr(TupleDescAttr(RelationGetDescr(shell_), attno - 1)->attname))));
        CopyFromState state = BeginCopyFrom(pstate, shard, nullptr, nullptr, false, ReadLocalSource, names, NIL);
        CopyFrom(state);
        EndCopyFrom(state);
        free_parsestate(pstate);
        table_close(shard, NoLock);
      });
      OutputStyle::Swap(user);
    } catch (PgError& error) {
      OutputStyle::Swap(user);
      ErrorData* data = error.Data();
      if (data->context != nullptr) {
        std::string context = TranslateContext(data->context, shard_name, table_name_, batch.lines);
        data->context = PgCall([&] { return pstrdup(context.c_str()); });
      }
      throw;
    } catch (...) {
      OutputStyle::Swap(user);
      throw;
    }
  }

  std::shared_ptr<const DistributedTable> table_;
  Relation shell_;
  const CopyColumns& columns_;
  Oid namespace_ = InvalidOid;
  std::string schema_;
  std::string table_name_;
  std::string encoding_;
  NodeId local_node_ = 0;
  std::vector<Batch> buffers_;
  std::map<NodeId, Stream> streams_;
  size_t queued_bytes_ = 0;
};

// Appends a value's text in COPY text form: runs of plain bytes in one go.
void AppendEscaped(StringInfo out, const char* text) {
  const char* run = text;
  const char* c = text;
  for (; *c != '\0'; c++) {
    char escaped;
    switch (*c) {
      case '\\':
        escaped = '\\';
        break;
      case '\t':
        escaped = 't';
        break;
      case '\n':
        escaped = 'n';
        break;
      case '\r':
        escaped = 'r';
        break;
      default:
        continue;
    }
    if (c > run) appendBinaryStringInfo(out, run, static_cast<int>(c - run));
    appendStringInfoCharMacro(out, '\\');
    appendStringInfoCharMacro(out, escaped);
    run = c + 1;
  }
  if (c > run) appendBinaryStringInfo(out, run, static_cast<int>(c - run));
}

// Types whose text input means the same in every session (no DateStyle,
// TimeZone, IntervalStyle or locale in it).
bool InputIsContextFree(Oid type) {
  switch (type) {
    case BOOLOID:
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case OIDOID:
    case FLOAT4OID:
    case FLOAT8OID:
    case NUMERICOID:
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID:
    case NAMEOID:
    case BYTEAOID:
    case UUIDOID:
    case JSONOID:
    case JSONBOID:
      return true;
    default:
      return false;
  }
}

// Whether the input's lines can go to the shards as they are, without the
// output functions and escaping (the hot path of a bulk load): text format
// with the default delimiter and NULL marker, every column the shards take
// present in the input (no default to evaluate here), and only types that a
// node reads exactly as this session would. Only the distribution value is
// read here; the shards read the rest (their errors still name the line).
bool CanShipInputLines(CopyFromState state, Relation shell, List* attnums, const CopyColumns& columns) {
  const CopyFormatOptions& options = state->opts;
  if (options.binary || options.csv_mode) return false;
  if (strcmp(options.delim, "\t") != 0 || strcmp(options.null_print, "\\N") != 0) return false;
  if (static_cast<size_t>(list_length(attnums)) != columns.attnos.size()) return false;
  ListCell* cell;
  foreach (cell, attnums) {
    Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(shell), lfirst_int(cell) - 1);
    if (!InputIsContextFree(attribute->atttypid)) return false;
  }
  return true;
}

uint64 CopyFromDistributed(ParseState* pstate, const CopyStmt* stmt, std::shared_ptr<const DistributedTable> table) {
  Relation shell = PgCall([&] { return table_openrv(stmt->relation, RowExclusiveLock); });
  List* attnums = AttnumsOf(shell, stmt->attlist);
  CheckTablePrivileges(shell, attnums, /*is_from=*/true);
  if (stmt->whereClause != nullptr)
    throw Error(sqlstate::kFeatureNotSupported, "COPY FROM ... WHERE is not supported on distributed tables", "",
                "Filter the rows before loading them, or load them into a local table first.");

  const CopyColumns columns = CopyColumnsOf(RelationGetDescr(shell));

  const TupleDesc descriptor = RelationGetDescr(shell);
  const int natts = descriptor->natts;
  const bool reference = table->IsReference();
  const int32_t shard_count = static_cast<int32_t>(table->record.shards.size());
  const int distribution_index = table->distribution_attno - 1;

  struct Parse {
    CopyFromState state = nullptr;
    EState* estate = nullptr;
    ExprContext* econtext = nullptr;
    MemoryContext rows = nullptr;
    Datum* values = nullptr;
    bool* nulls = nullptr;
    StringInfoData row;
  } parse;
  PgCall([&] {
    parse.state =
        BeginCopyFrom(pstate, shell, nullptr, stmt->filename, stmt->is_program, nullptr, stmt->attlist, stmt->options);
    parse.estate = CreateExecutorState();
    parse.econtext = GetPerTupleExprContext(parse.estate);
    parse.rows = AllocSetContextCreate(CurrentMemoryContext, "phantomdb copy rows", ALLOCSET_DEFAULT_SIZES);
    parse.values = static_cast<Datum*>(palloc0(sizeof(Datum) * natts));
    parse.nulls = static_cast<bool*>(palloc0(sizeof(bool) * natts));
    initStringInfo(&parse.row);
  });
  const bool raw_lines = CanShipInputLines(parse.state, shell, attnums, columns);
  CopyColumns input_order;
  if (raw_lines) {
    ListCell* cell;
    foreach (cell, attnums) input_order.attnos.push_back(static_cast<AttrNumber>(lfirst_int(cell)));
    input_order.column_list = ColumnListOf(shell, attnums);
  }
  CopyFromRun runner(table, shell, raw_lines ? input_order : columns);
  int distribution_field = -1;
  FmgrInfo distribution_input{};
  Oid distribution_ioparam = InvalidOid;
  if (raw_lines && !table->IsReference()) {
    for (size_t i = 0; i < input_order.attnos.size(); i++)
      if (input_order.attnos[i] == table->distribution_attno) distribution_field = static_cast<int>(i);
    PgCall([&] {
      Oid function = InvalidOid;
      getTypeInputInfo(TupleDescAttr(RelationGetDescr(shell), table->distribution_attno - 1)->atttypid, &function,
                       &distribution_ioparam);
      fmgr_info(function, &distribution_input);
    });
  }
  // The columns the input row's text is made of, with their output functions.
  std::vector<int> indexes;
  for (AttrNumber attno : columns.attnos) indexes.push_back(attno - 1);
  std::vector<FmgrInfo> output = columns.output;

  uint64 processed = 0;
  const OutputStyle user_style{DateStyle, IntervalStyle, extra_float_digits};
  try {
    for (int in_batch = 0;; in_batch++) {
      if (in_batch == kRowsPerReset) {
        in_batch = 0;
        PgCall([&] { MemoryContextReset(parse.rows); });
        CheckForInterrupts();
        runner.PumpAll();
      }
      const bool more = PgCall([&] {
        MemoryContext caller = MemoryContextSwitchTo(parse.rows);
        ErrorContextCallback callback;
        callback.callback = CopyFromErrorCallback;
        callback.arg = parse.state;
        callback.previous = error_context_stack;
        error_context_stack = &callback;
        bool got;
        if (raw_lines) {
          // Lines ship as they are and the shards read every value; only
          // the distribution value is read here, to place the row.
          char** fields = nullptr;
          int field_count = 0;
          got = NextCopyFromRawFields(parse.state, &fields, &field_count);
          const int expected = static_cast<int>(input_order.attnos.size());
          if (got && field_count > expected)
            ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT), errmsg("extra data after last expected column")));
          if (got && field_count < expected)
            ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                            errmsg("missing data for column \"%s\"",
                                   NameStr(TupleDescAttr(descriptor, input_order.attnos[field_count] - 1)->attname))));
          if (got && distribution_field >= 0) {
            char* text = fields[distribution_field];
            parse.nulls[distribution_index] = text == nullptr;
            if (text != nullptr) {
              parse.state->cur_attname = NameStr(TupleDescAttr(descriptor, distribution_index)->attname);
              parse.state->cur_attval = text;
              parse.values[distribution_index] =
                  InputFunctionCall(&distribution_input, text, distribution_ioparam,
                                    TupleDescAttr(descriptor, distribution_index)->atttypmod);
              parse.state->cur_attname = nullptr;
              parse.state->cur_attval = nullptr;
            }
          }
        } else {
          got = NextCopyFrom(parse.state, parse.econtext, parse.values, parse.nulls);
        }
        error_context_stack = callback.previous;
        if (got && raw_lines) {
          resetStringInfo(&parse.row);
          appendBinaryStringInfo(&parse.row, parse.state->line_buf.data, parse.state->line_buf.len);
          appendStringInfoCharMacro(&parse.row, '\n');
        } else if (got) {
          // The row's text, built here so that a bad value's error carries the line.
          const OutputStyle user = OutputStyle::Swap(OutputStyle{});
          resetStringInfo(&parse.row);
          for (size_t i = 0; i < indexes.size(); i++) {
            if (i > 0) appendStringInfoCharMacro(&parse.row, '\t');
            const int index = indexes[i];
            if (parse.nulls[index])
              appendBinaryStringInfo(&parse.row, "\\N", 2);
            else
              AppendEscaped(&parse.row, OutputFunctionCall(&output[i], parse.values[index]));
          }
          appendStringInfoCharMacro(&parse.row, '\n');
          OutputStyle::Swap(user);
        }
        MemoryContextSwitchTo(caller);
        return got;
      });
      if (!more) break;
      const uint64_t line = parse.state->cur_lineno;
      int32_t shard = 0;
      if (!reference) {
        if (parse.nulls[distribution_index])
          RaiseWithContext("23502",
                           "cannot copy a row with a null value in distribution column \"" +
                               table->record.distribution_column + "\"",
                           "", "",
                           "COPY " + std::string(RelationGetRelationName(shell)) + ", line " + std::to_string(line));
        const int32_t hash = DistributionHashOf(parse.values[distribution_index], table->distribution_type);
        shard = sharding::ShardIndexForHash(hash, shard_count);
      }
      Batch& batch = runner.Pending(shard);
      batch.data.append(parse.row.data, parse.row.len);
      batch.lines.push_back(line);
      processed++;
      runner.MaybeShip(shard, false);
    }
    runner.Finish();
  } catch (...) {
    OutputStyle::Swap(user_style);  // an output function failed mid-row
    runner.Abandon();
    throw;
  }
  PgCall([&] {
    EndCopyFrom(parse.state);
    FreeExecutorState(parse.estate);
    MemoryContextDelete(parse.rows);
    table_close(shell, NoLock);
  });
  return processed;
}

// ---------------------------------------------------------------------------
// COPY TO

constexpr char kBinarySignature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
constexpr int kBinaryHeaderBytes = 19;  // signature, flags, header extension length

// Where COPY TO's bytes go. Called from inside Postgres frames (the captured
// protocol messages of a local COPY), so it raises Postgres ERRORs only.
struct Sink {
  bool client = true;
  FILE* file = nullptr;
  const PQcommMethods* methods = nullptr;  // the real protocol methods
  bool binary = false;
  // Per shard: header bytes still to drop, and the last message held back
  // (its final two bytes are the shard's trailer).
  int header_left = 0;
  StringInfoData held;
};
Sink* sink = nullptr;

void SinkWrite(const char* data, size_t size) {
  if (size == 0) return;
  if (sink->client) {
    sink->methods->putmessage('d', data, size);
  } else if (fwrite(data, 1, size, sink->file) != size) {
    ereport(ERROR, (errcode_for_file_access(), errmsg("could not write to COPY file: %m")));
  }
}

// One shard's CopyData, with the per-shard binary header and trailer removed.
void SinkShardData(const char* data, size_t size) {
  if (!sink->binary) {
    SinkWrite(data, size);
    return;
  }
  if (sink->header_left > 0) {
    size_t header_bytes = std::min(size, static_cast<size_t>(sink->header_left));
    sink->header_left -= static_cast<int>(header_bytes);
    data += header_bytes;
    size -= header_bytes;
  }
  SinkWrite(sink->held.data, sink->held.len);
  resetStringInfo(&sink->held);
  appendBinaryStringInfo(&sink->held, data, static_cast<int>(size));
}

void SinkShardStart() {
  sink->header_left = sink->binary ? kBinaryHeaderBytes : 0;
  resetStringInfo(&sink->held);
}

void SinkShardEnd() {
  if (sink->binary) SinkWrite(sink->held.data, std::max(0, sink->held.len - 2));
  resetStringInfo(&sink->held);
}

// The protocol methods while a local shard's COPY TO runs: its CopyData goes
// to the sink, its CopyOutResponse and CopyDone (one pair per shard) nowhere.
int CapturePutMessage(char type, const char* data, size_t size) {
  if (type == 'd') SinkShardData(data, size);
  return 0;
}
void CapturePutMessageNoblock(char type, const char* data, size_t size) { CapturePutMessage(type, data, size); }
void CaptureReset() { sink->methods->comm_reset(); }
int CaptureFlush() { return sink->methods->flush(); }
int CaptureFlushIfWritable() { return sink->methods->flush_if_writable(); }
bool CaptureIsSendPending() { return sink->methods->is_send_pending(); }
const PQcommMethods capture_methods = {CaptureReset,         CaptureFlush,      CaptureFlushIfWritable,
                                       CaptureIsSendPending, CapturePutMessage, CapturePutMessageNoblock};

// The COPY options as SQL, for the nodes: without HEADER unless asked, and
// with ENCODING set to what this session's output needs, so that the bytes
// can be relayed untouched.
std::string DeparseOptions(List* options, bool header, const std::string& encoding) {
  std::string text;
  ListCell* cell;
  foreach (cell, options) {
    DefElem* option = lfirst_node(DefElem, cell);
    const std::string name = option->defname;
    if (name == "header" || name == "encoding") continue;
    if (!text.empty()) text += ", ";
    text += QuoteIdentifier(option->defname);
    if (option->arg == nullptr) {
      text += " true";
    } else if (IsA(option->arg, A_Star)) {
      text += " *";
    } else if (IsA(option->arg, List)) {
      text += " (";
      ListCell* column;
      bool first = true;
      foreach (column, castNode(List, option->arg)) {
        if (!first) text += ", ";
        first = false;
        text += QuoteIdentifier(strVal(lfirst(column)));
      }
      text += ")";
    } else {
      text += " " + std::string(PgCall([&] { return quote_literal_cstr(defGetString(option)); }));
    }
  }
  if (header) text += std::string(text.empty() ? "" : ", ") + "HEADER true";
  text += std::string(text.empty() ? "" : ", ") + "ENCODING '" + encoding + "'";
  return "(" + text + ")";
}

// The user's options for a local shard's COPY TO: HEADER only when asked.
List* LocalOptions(List* options, bool header) {
  return PgCall([&] {
    List* result = NIL;
    ListCell* cell;
    foreach (cell, options) {
      DefElem* option = lfirst_node(DefElem, cell);
      if (strcmp(option->defname, "header") == 0) continue;
      result = lappend(result, option);
    }
    if (header)
      result = lappend(result, makeDefElem(pstrdup("header"), reinterpret_cast<Node*>(makeBoolean(true)), -1));
    return result;
  });
}

uint64 CopyShardToLocal(ParseState* pstate, Oid relid, List* attlist, List* options) {
  uint64 rows = 0;
  const PQcommMethods* real = PqCommMethods;
  try {
    PgCall([&] {
      Relation shard = table_open(relid, AccessShareLock);
      CopyToState state = BeginCopyTo(pstate, shard, nullptr, InvalidOid, nullptr, false, attlist, options);
      PqCommMethods = &capture_methods;
      rows = DoCopyTo(state);
      PqCommMethods = real;
      EndCopyTo(state);
      table_close(shard, NoLock);
    });
  } catch (...) {
    PqCommMethods = real;
    throw;
  }
  return rows;
}

// Node sessions write values ISO-style (connection_pool.cpp); a session that
// writes them otherwise gets its own style on the node for the COPY, so that
// local and remote shards' rows look alike.
std::optional<std::vector<std::optional<std::string>>> SessionOutputStyle() {
  if (DateStyle == USE_ISO_DATES && IntervalStyle == INTSTYLE_POSTGRES && extra_float_digits > 0) return std::nullopt;
  std::vector<std::optional<std::string>> values;
  for (const char* name : {"datestyle", "intervalstyle", "extra_float_digits"})
    values.emplace_back(PgCall([&] { return GetConfigOptionByName(name, nullptr, false); }));
  return values;
}

const char* const kSetOutputStyle =
    "SELECT pg_catalog.set_config('datestyle', $1, false), pg_catalog.set_config('intervalstyle', $2, false), "
    "pg_catalog.set_config('extra_float_digits', $3, false)";

uint64 CopyShardToRemote(const CachedNode& node, const std::string& sql,
                         const std::optional<std::vector<std::optional<std::string>>>& style) {
  return connection_pool::Run(node, connection_pool::Access::kRead, [&](NodeConnection& connection) -> uint64 {
    if (style) connection.Query(kSetOutputStyle, *style);
    connection.SendQuery(sql, {});
    NodeConnection::Result started = connection.NextResult();
    if (started == nullptr)
      throw Error(sqlstate::kConnectionFailure, "node " + connection.Address() + " did not start a COPY");
    connection.ThrowIfError(started.get());
    started.reset();
    int size = 0;
    int rows_seen = 0;
    while (NodeConnection::CopyData chunk = connection.GetCopyData(size)) {
      PgCall([&] { SinkShardData(chunk.get(), static_cast<size_t>(size)); });
      if (++rows_seen % kRowsPerReset == 0) CheckForInterrupts();
    }
    uint64 rows = 0;
    while (NodeConnection::Result result = connection.NextResult()) {
      connection.ThrowIfError(result.get());
      if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) rows = strtoull(PQcmdTuples(result.get()), nullptr, 10);
    }
    if (style) connection.Query(kSetOutputStyle, {"ISO", "postgres", "3"});
    return rows;
  });
}

uint64 CopyToDistributed(ParseState* pstate, const CopyStmt* stmt, std::shared_ptr<const DistributedTable> table) {
  Relation shell = PgCall([&] { return table_openrv(stmt->relation, AccessShareLock); });
  List* attnums = AttnumsOf(shell, stmt->attlist);
  CheckTablePrivileges(shell, attnums, /*is_from=*/false);
  const std::string column_list = ColumnListOf(shell, attnums);
  List* attlist = PgCall([&] {
    List* names = NIL;
    ListCell* cell;
    foreach (cell, attnums)
      names = lappend(
          names, makeString(pstrdup(NameStr(TupleDescAttr(RelationGetDescr(shell), lfirst_int(cell) - 1)->attname))));
    return names;
  });

  // Postgres's own option checks, and what we need from them.
  CopyFormatOptions format{};
  PgCall([&] { ProcessCopyOptions(pstate, &format, false, stmt->options); });
  const bool header = format.header_line != COPY_HEADER_FALSE;
  const bool to_client = stmt->filename == nullptr;
  std::string encoding = PgCall([&] {
    int id = format.file_encoding >= 0 ? format.file_encoding
             : to_client               ? pg_get_client_encoding()
                                       : GetDatabaseEncoding();
    return pg_encoding_to_char(id);
  });

  const Oid namespace_oid = RelationGetNamespace(shell);
  const std::string schema = PgCall([&] { return get_namespace_name(namespace_oid); });
  const NodeId local_node = metadata_cache::LocalNodeId();
  const auto style = SessionOutputStyle();

  Sink state;
  state.client = to_client;
  state.binary = format.binary;
  state.methods = PqCommMethods;
  PgCall([&] {
    initStringInfo(&state.held);
    if (!to_client) {
      if (stmt->is_program) {
        state.file = OpenPipeStream(stmt->filename, PG_BINARY_W);
        if (state.file == nullptr)
          ereport(ERROR, (errcode_for_file_access(), errmsg("could not execute command \"%s\": %m", stmt->filename)));
      } else {
        if (!is_absolute_path(stmt->filename))
          ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("relative path not allowed for COPY to file")));
        mode_t mask = umask(S_IWGRP | S_IWOTH);
        state.file = AllocateFile(stmt->filename, PG_BINARY_W);
        umask(mask);
        if (state.file == nullptr)
          ereport(ERROR,
                  (errcode_for_file_access(), errmsg("could not open file \"%s\" for writing: %m", stmt->filename)));
      }
    } else {
      StringInfoData message;
      pq_beginmessage(&message, 'H');
      pq_sendbyte(&message, format.binary ? 1 : 0);
      pq_sendint16(&message, list_length(attnums));
      for (int i = 0; i < list_length(attnums); i++) pq_sendint16(&message, format.binary ? 1 : 0);
      pq_endmessage(&message);
    }
  });
  sink = &state;

  uint64 processed = 0;
  try {
    if (format.binary)
      PgCall([&] {
        SinkWrite(kBinarySignature, sizeof(kBinarySignature));
        const char zeros[8] = {};
        SinkWrite(zeros, sizeof(zeros));
      });
    bool first = true;
    for (const ShardRecord& shard : table->record.shards) {
      const std::string shard_name = table->ShardTableName(shard);
      const bool with_header = header && first && !format.binary;
      first = false;
      // A local placement is read in this backend: it sees this
      // transaction's own writes, and costs no connection.
      NodeId reader = shard.placements.empty() ? 0 : shard.placements.front();
      for (NodeId node : shard.placements)
        if (node == local_node) reader = node;
      PgCall([] { SinkShardStart(); });
      if (reader == local_node) {
        processed += CopyShardToLocal(pstate, ShardRelid(namespace_oid, shard_name), attlist,
                                      LocalOptions(stmt->options, with_header));
      } else {
        const std::string sql = "COPY " + QualifiedName(schema, shard_name) + " " + column_list + " TO STDOUT " +
                                DeparseOptions(stmt->options, with_header, encoding);
        processed += CopyShardToRemote(metadata_cache::Node(reader), sql, style);
      }
      PgCall([] { SinkShardEnd(); });
    }
    PgCall([&] {
      if (format.binary) {
        const char trailer[2] = {'\377', '\377'};
        SinkWrite(trailer, sizeof(trailer));
      }
      if (to_client) {
        pq_putemptymessage('c');
      } else if (stmt->is_program) {
        int status = ClosePipeStream(state.file);
        state.file = nullptr;
        if (status != 0)
          ereport(ERROR, (errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION), errmsg("program \"%s\" failed", stmt->filename),
                          errdetail_internal("%s", wait_result_to_str(status))));
      } else if (FreeFile(state.file) != 0) {
        state.file = nullptr;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not close file \"%s\": %m", stmt->filename)));
      } else {
        state.file = nullptr;
      }
      table_close(shell, NoLock);
    });
  } catch (...) {
    sink = nullptr;  // an open file is closed by the abort (AllocateFile)
    throw;
  }
  sink = nullptr;
  return processed;
}

}  // namespace

bool ExecuteDistributedCopy(PlannedStmt* pstmt, const char* query_string, ParamListInfo params,
                            QueryEnvironment* query_env, DestReceiver* dest, QueryCompletion* completion) {
  if (pstmt == nullptr || !IsA(pstmt->utilityStmt, CopyStmt)) return false;
  const CopyStmt* stmt = castNode(CopyStmt, pstmt->utilityStmt);
  if (stmt->query != nullptr || stmt->relation == nullptr) return false;
  // A missing table is Postgres's error to report, with its own wording.
  const Oid relid = PgCall([&] { return RangeVarGetRelid(stmt->relation, NoLock, true); });
  if (!OidIsValid(relid)) return false;
  std::shared_ptr<const DistributedTable> table = metadata_cache::Lookup(relid);
  if (table == nullptr) return false;

  CheckServerFilePrivileges(stmt, stmt->is_from);
  ParseState* pstate = PgCall([&] {
    ParseState* state = make_parsestate(nullptr);
    state->p_sourcetext = query_string;
    state->p_queryEnv = query_env;
    return state;
  });
  const uint64 processed =
      stmt->is_from ? CopyFromDistributed(pstate, stmt, table) : CopyToDistributed(pstate, stmt, table);
  if (completion != nullptr) SetQueryCompletion(completion, CMDTAG_COPY, processed);
  return true;
}

}  // namespace phantom::pg
