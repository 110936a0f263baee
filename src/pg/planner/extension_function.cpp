// Looking up the extension's functions; see extension_function.hpp.
#include "pg/planner/extension_function.hpp"

#include <string>

#include "core/common/error.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "utils/syscache.h"
}

namespace phantom::pg {

Oid ExtensionFunction(const char* name, const std::vector<Oid>& argument_types) {
  const Oid function = PgCall([&] {
    const Oid schema = get_namespace_oid("phantomdb", true);
    if (!OidIsValid(schema)) return InvalidOid;
    oidvector* arguments = buildoidvector(argument_types.data(), static_cast<int>(argument_types.size()));
    return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name), PointerGetDatum(arguments),
                           ObjectIdGetDatum(schema));
  });
  if (!OidIsValid(function))
    throw Error("42883", "function phantomdb." + std::string(name) + " does not exist", "",
                "Reinstall the extension: ALTER EXTENSION phantomdb UPDATE, or drop and create it.");
  return function;
}

}  // namespace phantom::pg
