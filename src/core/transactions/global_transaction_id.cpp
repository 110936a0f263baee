// GIDs of PhantomDB's prepared transactions; see global_transaction_id.hpp.
#include "core/transactions/global_transaction_id.hpp"

#include <charconv>
#include <limits>

#include "core/common/pure.hpp"

namespace phantom::transactions {

namespace {

constexpr std::string_view kPrefix = "phantom_";

// Parses decimal digits up to the next '_' (or the end when last), without
// sign, leading zeros or overflow, so one GID has exactly one spelling.
template <typename Integer>
bool TakeNumber(std::string_view& text, bool last, Integer& value) {
  const size_t end = last ? text.size() : text.find('_');
  if (end == std::string_view::npos || end == 0) return false;
  const std::string_view digits = text.substr(0, end);
  if (digits.size() > 1 && digits[0] == '0') return false;
  const auto [stop, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || stop != digits.data() + digits.size()) return false;
  text.remove_prefix(last ? end : end + 1);
  return true;
}

}  // namespace

std::string FormatGid(const GlobalTransactionId& gid) {
  return std::string(kPrefix) + std::to_string(gid.coordinator) + "_" + std::to_string(gid.transaction) + "_" +
         std::to_string(gid.participant);
}

std::optional<GlobalTransactionId> ParseGid(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  GlobalTransactionId gid;
  if (!TakeNumber(text, false, gid.coordinator) || !TakeNumber(text, false, gid.transaction) ||
      !TakeNumber(text, true, gid.participant))
    return std::nullopt;
  return gid;
}

std::string GidPattern(uint32_t coordinator) {
  // '_' is a LIKE wildcard; escape it so node 1 does not match node 12's GIDs.
  return "phantom\\_" + std::to_string(coordinator) + "\\_%";
}

Resolution Resolve(bool still_running, bool commit_record_exists) {
  if (commit_record_exists) return Resolution::kCommit;
  return still_running ? Resolution::kWait : Resolution::kRollback;
}

}  // namespace phantom::transactions
