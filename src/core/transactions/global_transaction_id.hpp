// The names PhantomDB gives its prepared transactions, and what recovery
// concludes about one of them.
//
// A distributed transaction that wrote on several nodes prepares its work on
// each participant under a global transaction id (GID) that names the
// coordinator node, the coordinator's own transaction and the participant.
// That is all recovery needs: the coordinator's transaction either committed
// (then its commit record exists), ended without committing, or is still
// running; nothing about the participant's state has to be remembered
// elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phantom::transactions {

struct GlobalTransactionId {
  uint32_t coordinator = 0;  // node id of the node whose commit decides
  uint64_t transaction = 0;  // the coordinator's full transaction id
  uint32_t participant = 0;  // node id of the node holding the prepared work

  bool operator==(const GlobalTransactionId&) const = default;
};

// "phantom_<coordinator>_<transaction>_<participant>" (well under Postgres's
// 200-byte limit for GIDs).
std::string FormatGid(const GlobalTransactionId& gid);

// The GID's parts, or nullopt for a GID that PhantomDB did not write (other
// software's prepared transactions are left alone).
std::optional<GlobalTransactionId> ParseGid(std::string_view gid);

// The LIKE pattern matching every GID the coordinator wrote, for listing a
// node's pg_prepared_xacts.
std::string GidPattern(uint32_t coordinator);

enum class Resolution : uint8_t {
  kWait,      // the coordinator's transaction may still decide
  kCommit,    // it committed: its commit record exists
  kRollback,  // it ended without committing
};

// What to do with a prepared transaction of this coordinator. The caller
// must learn `still_running` before it looks for the commit record: a
// transaction that ends between the two looks would otherwise be taken for
// aborted before its record became visible.
Resolution Resolve(bool still_running, bool commit_record_exists);

}  // namespace phantom::transactions
