// Producing SQL text that another node will run: names in it must resolve the
// same way there, whatever this session's search_path is.
#pragma once

#include <string>
#include <type_traits>

#include "pg/guard.hpp"

extern "C" {
#include "catalog/namespace.h"
}

namespace phantom::pg {

// Runs fn with an empty search_path (pg_catalog only), so that ruleutils and
// format_type qualify every name outside pg_catalog. Node connections use
// the same search_path (connection_pool.cpp). If fn throws, the override
// stays until the transaction or subtransaction aborts, which pops it.
template <typename Fn>
auto WithQualifiedNames(Fn&& fn) -> decltype(fn()) {
  PgCall([] {
    OverrideSearchPath path{};
    path.schemas = NIL;
    path.addCatalog = true;
    path.addTemp = false;
    PushOverrideSearchPath(&path);
  });
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    PgCall([] { PopOverrideSearchPath(); });
  } else {
    auto result = fn();
    PgCall([] { PopOverrideSearchPath(); });
    return result;
  }
}

// schema.name, each part quoted where needed.
std::string QualifiedName(const std::string& schema, const std::string& name);

}  // namespace phantom::pg
