// The extension's own SQL functions that plans call (in schema phantomdb),
// looked up without the privilege checks of a name lookup: the user planning
// a query needs no privilege on schema phantomdb.
#pragma once

#include <vector>

#include "pg/postgres.hpp"

namespace phantom::pg {

// The oid of phantomdb.name(argument_types); 42883 when the installed
// extension lacks it.
Oid ExtensionFunction(const char* name, const std::vector<Oid>& argument_types);

}  // namespace phantom::pg
