// SPI from C++; see spi.hpp. Values cross the boundary as plain C values
// inside PgCall and become C++ objects only outside it.
#include "pg/spi.hpp"

#include <exception>

#include "core/common/error.hpp"

extern "C" {
#include "utils/snapmgr.h"
#include "catalog/pg_type_d.h"
#include "utils/timestamp.h"
}

namespace phantom::pg::spi {

namespace {

constexpr int kMaxParams = 16;
constexpr int64_t kUnixToPostgresEpochUs = int64_t{POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE} * USECS_PER_DAY;

Datum GetDatum(uint64_t row, int column, bool* is_null) {
  return PgCall([&] { return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1, is_null); });
}

void CheckCell(uint64_t row, int column) {
  if (SPI_tuptable == nullptr || row >= SPI_processed || column >= SPI_tuptable->tupdesc->natts)
    throw Error(sqlstate::kInternalError,
                "SPI result has no cell (" + std::to_string(row) + ", " + std::to_string(column) + ")");
}

}  // namespace

Param Text(std::string_view value) {
  Datum datum = PgCall([&] { return PointerGetDatum(cstring_to_text_with_len(value.data(), value.size())); });
  return {TEXTOID, datum, false};
}

Param OptionalText(const std::optional<std::string>& value) {
  if (!value) return {TEXTOID, Datum(0), true};
  return Text(*value);
}

Param Int32(int32_t value) { return {INT4OID, Int32GetDatum(value), false}; }
Param Int64(int64_t value) { return {INT8OID, Int64GetDatum(value), false}; }
Param Bool(bool value) { return {BOOLOID, BoolGetDatum(value), false}; }

Param Bytea(std::string_view value) {
  Datum datum = PgCall([&] {
    bytea* result = static_cast<bytea*>(palloc(VARHDRSZ + value.size()));
    SET_VARSIZE(result, VARHDRSZ + value.size());
    memcpy(VARDATA(result), value.data(), value.size());
    return PointerGetDatum(result);
  });
  return {BYTEAOID, datum, false};
}

Param TimestampUs(int64_t unix_us) {
  if (unix_us == 0) return {TIMESTAMPTZOID, Datum(0), true};
  return {TIMESTAMPTZOID, TimestampTzGetDatum(unix_us - kUnixToPostgresEpochUs), false};
}

namespace {

bool one_snapshot = false;

}  // namespace

OneSnapshotScope::OneSnapshotScope() : outer_(one_snapshot) {
  if (outer_) return;
  PgCall([] { PushActiveSnapshot(GetTransactionSnapshot()); });
  one_snapshot = true;
}

// An error unwinding through here aborts the transaction, which pops the
// snapshot itself; PopActiveSnapshot then must not run.
OneSnapshotScope::~OneSnapshotScope() {
  if (outer_) return;
  one_snapshot = false;
  if (std::uncaught_exceptions() == 0) PopActiveSnapshot();
}

uint64_t Execute(const char* sql, std::initializer_list<Param> params) {
  if (params.size() > kMaxParams) throw Error(sqlstate::kInternalError, "too many SPI parameters");
  Oid types[kMaxParams];
  Datum values[kMaxParams];
  char nulls[kMaxParams];
  int count = 0;
  for (const Param& param : params) {
    types[count] = param.type;
    values[count] = param.value;
    nulls[count] = param.is_null ? 'n' : ' ';
    count++;
  }
  const bool read_only = one_snapshot;
  int rc = PgCall([&] { return SPI_execute_with_args(sql, count, types, values, nulls, read_only, 0); });
  if (rc < 0)
    throw Error(sqlstate::kInternalError, std::string("SPI failed (") + SPI_result_code_string(rc) + "): " + sql);
  return SPI_processed;
}

uint64_t RowCount() { return SPI_processed; }

bool IsNull(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  GetDatum(row, column, &is_null);
  return is_null;
}

std::string GetText(uint64_t row, int column) {
  CheckCell(row, column);
  const char* text = PgCall([&] { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1); });
  return text ? std::string(text) : std::string();
}

int32_t GetInt32(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  Datum datum = GetDatum(row, column, &is_null);
  return is_null ? 0 : DatumGetInt32(datum);
}

int64_t GetInt64(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  Datum datum = GetDatum(row, column, &is_null);
  return is_null ? 0 : DatumGetInt64(datum);
}

bool GetBool(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  Datum datum = GetDatum(row, column, &is_null);
  return !is_null && DatumGetBool(datum);
}

std::string GetBytea(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  Datum datum = GetDatum(row, column, &is_null);
  if (is_null) return {};
  bytea* value = PgCall([&] { return DatumGetByteaPP(datum); });
  return std::string(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

int64_t GetTimestampUs(uint64_t row, int column) {
  CheckCell(row, column);
  bool is_null = false;
  Datum datum = GetDatum(row, column, &is_null);
  return is_null ? 0 : DatumGetTimestampTz(datum) + kUnixToPostgresEpochUs;
}

int64_t NowUnixUs() { return GetCurrentTimestamp() + kUnixToPostgresEpochUs; }

}  // namespace phantom::pg::spi
