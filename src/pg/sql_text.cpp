// See sql_text.hpp.
#include "pg/sql_text.hpp"

namespace phantom::pg {

std::string QualifiedName(const std::string& schema, const std::string& name) {
  return PgCall([&] { return quote_qualified_identifier(schema.c_str(), name.c_str()); });
}

}  // namespace phantom::pg
