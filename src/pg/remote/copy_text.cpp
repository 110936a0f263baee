// COPY text encoding of rows; see copy_text.hpp.
#include "pg/remote/copy_text.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg {

CopyColumns CopyColumnsOf(TupleDesc descriptor) {
  CopyColumns columns;
  columns.column_list = "(";
  for (int i = 0; i < descriptor->natts; i++) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped || attribute->attgenerated) continue;
    if (!columns.attnos.empty()) columns.column_list += ", ";
    columns.column_list += PgCall([&] { return quote_identifier(NameStr(attribute->attname)); });
    columns.attnos.push_back(attribute->attnum);
    FmgrInfo info;
    PgCall([&] {
      Oid function = InvalidOid;
      bool varlena = false;
      getTypeOutputInfo(attribute->atttypid, &function, &varlena);
      fmgr_info(function, &info);
    });
    columns.output.push_back(info);
  }
  columns.column_list += ")";
  return columns;
}

void AppendCopyField(std::string& out, const char* text) {
  if (text == nullptr) {
    out += "\\N";
    return;
  }
  for (const char* c = text; *c != '\0'; c++) {
    switch (*c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += *c;
    }
  }
}

void AppendCopyRow(std::string& out, const CopyColumns& columns, const Datum* values, const bool* nulls) {
  for (size_t i = 0; i < columns.attnos.size(); i++) {
    if (i > 0) out += '\t';
    const int index = columns.attnos[i] - 1;
    const char* text = nulls[index] ? nullptr : PgCall([&] {
      return OutputFunctionCall(const_cast<FmgrInfo*>(&columns.output[i]), values[index]);
    });
    AppendCopyField(out, text);
  }
  out += '\n';
}

}  // namespace phantom::pg
