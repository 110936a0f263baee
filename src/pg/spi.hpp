// Running SQL inside the backend through SPI, from C++: every call is guarded
// (pg/guard.hpp) and results come back as C++ values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "pg/guard.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace phantom::pg::spi {

// Runs fn connected to SPI. On an exception SPI is left connected on purpose:
// the error aborts the transaction, and abort cleans up SPI.
template <typename Fn>
void WithSpi(Fn&& fn) {
  PgCall([] { SPI_connect(); });
  fn();
  PgCall([] { SPI_finish(); });
}

struct Param {
  Oid type;
  Datum value;
  bool is_null;
};

Param Text(std::string_view value);
Param OptionalText(const std::optional<std::string>& value);
Param Int32(int32_t value);
Param Int64(int64_t value);
Param Bool(bool value);
Param Bytea(std::string_view value);
// A Unix-epoch microsecond count as timestamptz; 0 is NULL ("never").
Param TimestampUs(int64_t unix_us);

// Executes one statement; its rows, if any, are read with the getters below.
// Returns the number of rows processed.
uint64_t Execute(const char* sql, std::initializer_list<Param> params = {});

// For its lifetime, Execute runs read-only statements on one snapshot taken
// when it starts: reads of the catalog see one state, even while the raft
// worker commits changes between them. Only SELECTs inside.
class OneSnapshotScope {
 public:
  OneSnapshotScope();
  ~OneSnapshotScope();
  OneSnapshotScope(const OneSnapshotScope&) = delete;
  OneSnapshotScope& operator=(const OneSnapshotScope&) = delete;

 private:
  bool outer_;
};

uint64_t RowCount();
bool IsNull(uint64_t row, int column);
std::string GetText(uint64_t row, int column);  // any type, in its text form; "" for NULL
int32_t GetInt32(uint64_t row, int column);
int64_t GetInt64(uint64_t row, int column);
bool GetBool(uint64_t row, int column);
std::string GetBytea(uint64_t row, int column);
int64_t GetTimestampUs(uint64_t row, int column);  // NULL reads as 0

// Microseconds since the Unix epoch, now (the clock the core is given).
int64_t NowUnixUs();

}  // namespace phantom::pg::spi
