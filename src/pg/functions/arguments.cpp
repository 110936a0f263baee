// See arguments.hpp.
#include "pg/functions/arguments.hpp"

#include "core/common/error.hpp"
#include "pg/guard.hpp"

namespace phantom::pg {

namespace {

void RequireNotNull(FunctionCallInfo fcinfo, int arg, const char* name) {
  if (PG_ARGISNULL(arg)) throw Error(sqlstate::kNullValueNotAllowed, std::string(name) + " must not be null");
}

}  // namespace

std::string RequiredText(FunctionCallInfo fcinfo, int arg, const char* name) {
  RequireNotNull(fcinfo, arg, name);
  return *OptionalText(fcinfo, arg);
}

int32_t RequiredInt32(FunctionCallInfo fcinfo, int arg, const char* name) {
  RequireNotNull(fcinfo, arg, name);
  return PG_GETARG_INT32(arg);
}

int64_t RequiredInt64(FunctionCallInfo fcinfo, int arg, const char* name) {
  RequireNotNull(fcinfo, arg, name);
  return PG_GETARG_INT64(arg);
}

std::optional<std::string> OptionalText(FunctionCallInfo fcinfo, int arg) {
  if (PG_ARGISNULL(arg)) return std::nullopt;
  const char* value = PgCall([&] { return text_to_cstring(PG_GETARG_TEXT_PP(arg)); });
  return std::string(value);
}

}  // namespace phantom::pg
