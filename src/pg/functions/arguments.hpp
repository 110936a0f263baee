// Reading SQL function arguments into C++ values, with the error a user gets
// for a NULL where a value is required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg/postgres.hpp"

namespace phantom::pg {

// Throws 22004 `<name> must not be null` for a NULL argument.
std::string RequiredText(FunctionCallInfo fcinfo, int arg, const char* name);
int32_t RequiredInt32(FunctionCallInfo fcinfo, int arg, const char* name);
int64_t RequiredInt64(FunctionCallInfo fcinfo, int arg, const char* name);
std::optional<std::string> OptionalText(FunctionCallInfo fcinfo, int arg);

}  // namespace phantom::pg
