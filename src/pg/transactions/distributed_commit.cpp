// The commit protocol; see distributed_commit.hpp.
#include "pg/transactions/distributed_commit.hpp"

#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/transactions/global_transaction_id.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/spi.hpp"
#include "pg/transactions/backend_transactions.hpp"
#include "pg/transactions/fault_injection.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace phantom::pg::distributed_commit {

namespace {

using connection_pool::RemoteTransaction;

struct Prepared {
  metadata::NodeId node_id;
  std::string address;
  NodeConnection* connection;
  std::string gid;
};

// The participants prepared by the transaction committing now: COMMIT
// PREPARED after the local commit, ROLLBACK PREPARED if it aborts instead.
std::vector<Prepared> prepared;

// Sends command to every transaction in [begin, end) and then waits for
// each; the first failure is rethrown after every answer was read. With
// missing_is_done, "prepared transaction does not exist" (42704) counts as
// done: recovery resolved it first.
template <typename Item, typename Command>
void OnAll(std::vector<Item>& items, size_t begin, size_t end, Command command, std::vector<bool>* done = nullptr,
           bool missing_is_done = false) {
  std::optional<Error> failure;
  std::vector<bool> sent(items.size(), false);
  for (size_t i = begin; i < end; i++) {
    try {
      items[i].connection->SendCommand(command(items[i]));
      sent[i] = true;
    } catch (const Error& error) {
      if (!failure) failure = error;
    }
  }
  for (size_t i = begin; i < end; i++) {
    if (!sent[i]) continue;
    try {
      items[i].connection->Await();
      if (done != nullptr) (*done)[i] = true;
    } catch (const Error& error) {
      if (missing_is_done && error.Sqlstate() == "42704" && !items[i].connection->Broken()) {
        if (done != nullptr) (*done)[i] = true;
        continue;
      }
      if (!failure) failure = error;
    }
  }
  if (failure) throw *failure;
}

// Commits the remote transactions that only read: nothing of theirs needs
// to be atomic with the rest.
void CommitReaders(const std::vector<RemoteTransaction>& open) {
  std::vector<RemoteTransaction> readers;
  for (const RemoteTransaction& remote : open)
    if (!remote.wrote) readers.push_back(remote);
  if (readers.empty()) return;
  for (const RemoteTransaction& reader : readers) connection_pool::EndTransaction(reader.node_id);
  std::vector<bool> done(readers.size(), false);
  try {
    OnAll(
        readers, 0, readers.size(), [](const RemoteTransaction&) { return std::string("COMMIT"); }, &done);
  } catch (...) {
  }
  // A reader whose COMMIT failed had nothing to keep; its connection may be
  // in any state.
  for (size_t i = 0; i < readers.size(); i++)
    if (!done[i]) connection_pool::Discard(readers[i].node_id);
}

void CommitOnePhase(const RemoteTransaction& remote) {
  connection_pool::EndTransaction(remote.node_id);
  try {
    remote.connection->Query("COMMIT");
  } catch (const Error& error) {
    const bool answered = !remote.connection->Broken();
    connection_pool::Discard(remote.node_id);
    if (answered) throw;  // the node refused the commit: it rolled back
    throw Error(sqlstate::kConnectionFailure,
                "lost the connection to node " + remote.address + " while committing there", error.Message(),
                "The transaction may or may not have committed on that node; check before retrying.");
  }
}

void InsertCommitRecord(uint64_t full_xid, const std::vector<metadata::NodeId>& participants) {
  std::string array = "{";
  for (size_t i = 0; i < participants.size(); i++) array += (i ? "," : "") + std::to_string(participants[i]);
  array += "}";
  const std::string xid_text = std::to_string(full_xid);
  // The record is the extension's, not the user's: written as the
  // bootstrap superuser, whoever commits. An abort restores the user.
  Oid user = InvalidOid;
  int security_context = 0;
  PgCall([&] {
    GetUserIdAndSecContext(&user, &security_context);
    SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, security_context | SECURITY_LOCAL_USERID_CHANGE);
  });
  spi::WithSpi([&] {
    PgCall([&] {
      // Planned once per backend: every two-phase commit inserts one.
      static SPIPlanPtr plan = nullptr;
      if (plan == nullptr) {
        Oid types[2] = {TEXTOID, TEXTOID};
        SPIPlanPtr prepared = SPI_prepare(
            "INSERT INTO phantomdb.transaction_commits (transaction_id, participants) "
            "VALUES ($1::pg_catalog.xid8, $2::pg_catalog.int4[])",
            2, types);
        if (prepared == nullptr)
          elog(ERROR, "could not plan the commit record: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(prepared);
        plan = prepared;
      }
      Datum values[2] = {CStringGetTextDatum(xid_text.c_str()), CStringGetTextDatum(array.c_str())};
      if (SPI_execute_plan(plan, values, nullptr, false, 0) != SPI_OK_INSERT)
        elog(ERROR, "could not insert the commit record");
    });
  });
  PgCall([&] { SetUserIdAndSecContext(user, security_context); });
}

// Whether phantomdb.transaction_commits exists: not when this very
// transaction dropped the extension.
bool CommitRecordsExist() {
  return PgCall([] {
    const Oid schema = get_namespace_oid("phantomdb", true);
    return OidIsValid(schema) && OidIsValid(get_relname_relid("transaction_commits", schema));
  });
}

// Without a place for the decision (DROP EXTENSION in this transaction)
// there is nothing recovery could read either: commit node by node, as
// before two-phase commit existed.
void CommitOneByOne(std::vector<RemoteTransaction>& writers) {
  for (RemoteTransaction& remote : writers) CommitOnePhase(remote);
}

// Proposes the metadata commands the transaction holds for its commit
// (metadata_log.hpp), reading the catalog as its owner whoever commits.
void ProposeMetadataChanges() {
  if (!HasCommandsAtCommit()) return;
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  spi::WithSpi([] { ProposeCommandsAtCommit(); });
  SetUserIdAndSecContext(saved_user, saved_context);
}

void PrepareAndDecide(std::vector<RemoteTransaction>& writers) {
  // The id this transaction's remote BEGINs carried: the catalog may be
  // gone by now (see CommitRecordsExist).
  const metadata::NodeId local = backend_transactions::Coordinate(metadata_cache::LocalNodeId()).node;
  if (local == 0)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "a transaction that wrote on several nodes can only commit on a node of the cluster");
  const uint64_t full_xid = U64FromFullTransactionId(PgCall([] { return GetTopFullTransactionId(); }));
  std::vector<Prepared> participants;
  std::vector<metadata::NodeId> participant_ids;
  for (RemoteTransaction& remote : writers) {
    participants.push_back(
        {remote.node_id, remote.address, remote.connection,
         transactions::FormatGid({static_cast<uint32_t>(local), full_xid, static_cast<uint32_t>(remote.node_id)})});
    participant_ids.push_back(remote.node_id);
  }
  backend_transactions::SetCommitting(full_xid, participant_ids);
  backend_transactions::SetState(backend_transactions::State::kPreparing);
  fault_injection::At(fault_injection::kBeforePrepare, true);

  // From here a participant's remote transaction ends with its PREPARE
  // (or with its connection); the abort path works from `prepared`.
  for (const Prepared& participant : participants) connection_pool::EndTransaction(participant.node_id);
  std::vector<bool> done(participants.size(), false);
  const auto prepare = [](const Prepared& participant) { return "PREPARE TRANSACTION '" + participant.gid + "'"; };
  const auto keep_prepared = [&] {
    prepared.clear();
    for (size_t i = 0; i < participants.size(); i++)
      if (done[i]) prepared.push_back(participants[i]);
  };
  try {
    // "Some prepared" is a state only a test stops in: prepares go out
    // together, unless the fault point asks for one node first.
    size_t first = 0;
    if (fault_injection::Armed(fault_injection::kAfterSomePrepares) && participants.size() > 1) {
      OnAll(participants, 0, 1, prepare, &done);
      first = 1;
      keep_prepared();
      fault_injection::At(fault_injection::kAfterSomePrepares, true);
    }
    OnAll(participants, first, participants.size(), prepare, &done);
  } catch (...) {
    keep_prepared();
    // A participant whose PREPARE failed rolled back; one whose connection
    // broke is gone with it.
    for (size_t i = 0; i < participants.size(); i++)
      if (!done[i] && participants[i].connection->Broken()) connection_pool::Discard(participants[i].node_id);
    throw;
  }
  keep_prepared();
  fault_injection::At(fault_injection::kAfterPrepares, true);
  // Everything is prepared: the metadata change this transaction made goes
  // to Raft now, and its refusal still rolls everything back.
  ProposeMetadataChanges();
  InsertCommitRecord(full_xid, participant_ids);
}

void PreCommit() {
  connection_pool::ThrowIfTransactionLost();
  std::vector<RemoteTransaction> open = connection_pool::OpenTransactions();
  CommitReaders(open);
  std::vector<RemoteTransaction> writers;
  for (const RemoteTransaction& remote : open)
    if (remote.wrote) writers.push_back(remote);
  const bool metadata = HasCommandsAtCommit();
  if (writers.empty() && !metadata) return;
  const bool wrote_here = PgCall([] { return TransactionIdIsValid(GetTopTransactionIdIfAny()); });
  if (writers.size() == 1 && !wrote_here && !metadata) {
    CommitOnePhase(writers.front());
    return;
  }
  // PRE_COMMIT runs with no active snapshot; the catalog reads and the
  // commit record's insert need one (an error pops it with the abort).
  PgCall([] { PushActiveSnapshot(GetTransactionSnapshot()); });
  if (writers.empty()) {
    ProposeMetadataChanges();
  } else if (CommitRecordsExist()) {
    PrepareAndDecide(writers);
  } else {
    ProposeMetadataChanges();
    CommitOneByOne(writers);
  }
  PgCall([] { PopActiveSnapshot(); });
}

// After the local commit: nothing may throw, and interrupts are held (the
// waits end by answer or phantomdb.node_timeout_ms).
void FinishCommit() noexcept {
  if (prepared.empty()) return;
  backend_transactions::SetState(backend_transactions::State::kCommitting);
  // An injected error after the local commit stands for a COMMIT PREPARED
  // round that failed: the rest is left to recovery.
  bool failed = false;
  try {
    failed = fault_injection::At(fault_injection::kAfterCommitRecord, false);
  } catch (...) {
  }
  size_t first = failed ? prepared.size() : 0;
  const auto commit = [](const Prepared& participant) { return "COMMIT PREPARED '" + participant.gid + "'"; };
  const auto warn = [](const Prepared& participant, const std::string& why) {
    const std::string message =
        "could not commit prepared transaction " + participant.gid + " on node " + participant.address + ": " + why;
    Report(WARNING, message.c_str(), nullptr,
           "It committed here; phantom_recover_prepared_transactions() or the maintenance worker will finish it.");
  };
  std::vector<bool> done(prepared.size(), false);
  for (int pass = 0; pass < 2; pass++) {
    const size_t end = pass == 0 && fault_injection::Armed(fault_injection::kAfterSomeCommits) && prepared.size() > 1
                           ? 1
                           : prepared.size();
    if (first >= end) continue;
    try {
      OnAll(prepared, first, end, commit, &done, true);
    } catch (...) {
    }
    first = end;
    if (pass == 0 && end < prepared.size()) {
      try {
        if (fault_injection::At(fault_injection::kAfterSomeCommits, false)) {
          failed = true;
          first = prepared.size();
        }
      } catch (...) {
      }
    }
  }
  for (size_t i = 0; i < prepared.size(); i++) {
    if (done[i]) continue;
    const bool broken = prepared[i].connection->Broken();
    warn(prepared[i], broken ? "the connection was lost"
                      : prepared[i].connection->TransactionStatus() == PQTRANS_IDLE && failed
                          ? "injected fault"
                          : "the node reported an error");
    if (broken || prepared[i].connection->TransactionStatus() != PQTRANS_IDLE)
      connection_pool::Discard(prepared[i].node_id);
  }
}

void AbortPrepared() noexcept {
  if (prepared.empty()) return;
  backend_transactions::SetState(backend_transactions::State::kAborting);
  std::vector<bool> done(prepared.size(), false);
  try {
    OnAll(
        prepared, 0, prepared.size(),
        [](const Prepared& participant) { return "ROLLBACK PREPARED '" + participant.gid + "'"; }, &done, true);
  } catch (...) {
  }
  for (size_t i = 0; i < prepared.size(); i++) {
    if (done[i]) continue;
    const std::string message =
        "could not roll back prepared transaction " + prepared[i].gid + " on node " + prepared[i].address;
    Report(WARNING, message.c_str(), nullptr,
           "phantom_recover_prepared_transactions() or the maintenance worker will roll it back.");
    connection_pool::Discard(prepared[i].node_id);
  }
}

void EndOfTransaction() noexcept {
  prepared.clear();
  ForgetCommandsAtCommit();
  connection_pool::ResetTransactionState();
  backend_transactions::Clear();
}

void XactCallback(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
      GuardHook([] { PreCommit(); });
      break;
    case XACT_EVENT_PRE_PREPARE:
      GuardHook([] {
        for (const RemoteTransaction& remote : connection_pool::OpenTransactions())
          throw Error(sqlstate::kFeatureNotSupported,
                      "cannot PREPARE a transaction that has done work on node " + remote.address, "",
                      "PhantomDB runs its own two-phase commit when such a transaction commits.");
      });
      break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
      FinishCommit();
      EndOfTransaction();
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
      AbortPrepared();
      connection_pool::RollbackOpenTransactions();
      EndOfTransaction();
      break;
    case XACT_EVENT_PREPARE:
      EndOfTransaction();
      break;
  }
}

}  // namespace

void Register() { RegisterXactCallback(XactCallback, nullptr); }

}  // namespace phantom::pg::distributed_commit
