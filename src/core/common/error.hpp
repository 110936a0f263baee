// The one exception type the core throws. It carries a SQLSTATE (a SQL
// standard code, not a Postgres type) so the glue can report it unchanged.
#pragma once

#include <stdexcept>
#include <string>

namespace phantom {

// SQLSTATE codes the core uses; the glue maps them 1:1 onto ereport codes.
namespace sqlstate {
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kNullValueNotAllowed = "22004";
inline constexpr const char* kDuplicateObject = "42710";
inline constexpr const char* kUndefinedObject = "42704";
inline constexpr const char* kObjectNotInPrerequisiteState = "55000";
inline constexpr const char* kDataCorrupted = "XX001";
inline constexpr const char* kInternalError = "XX000";
inline constexpr const char* kConnectionFailure = "08006";
inline constexpr const char* kSqlclientUnableToEstablishSqlconnection = "08001";
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kInvalidTextRepresentation = "22P02";
inline constexpr const char* kUndefinedTable = "42P01";
}  // namespace sqlstate

class Error : public std::runtime_error {
 public:
  Error(std::string sqlstate, std::string message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  const std::string& Sqlstate() const noexcept { return sqlstate_; }
  std::string Message() const { return what(); }
  const std::string& Detail() const noexcept { return detail_; }
  const std::string& Hint() const noexcept { return hint_; }

 private:
  std::string sqlstate_;
  std::string detail_;
  std::string hint_;
};

}  // namespace phantom
