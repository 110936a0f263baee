// Turning exceptions into Postgres errors and back; see guard.hpp.
#include "pg/guard.hpp"

#include <cstring>
#include <new>

#include "core/common/error.hpp"

namespace phantom::pg {

void ThrowCurrentPgError(MemoryContext context) {
  MemoryContextSwitchTo(context);
  ErrorData* data = CopyErrorData();
  FlushErrorState();
  throw PgError(data);
}

void Report(int level, const char* message, const char* detail, const char* hint) {
  PgCall([&] {
    ereport(level, (errmsg_internal("%s", message), detail ? errdetail_internal("%s", detail) : 0,
                    hint ? errhint("%s", hint) : 0));
  });
}

namespace {

void CopyText(char* target, size_t size, const char* text) {
  if (text == nullptr) return;
  std::strncpy(target, text, size - 1);
  target[size - 1] = '\0';
}

// A SQLSTATE is five digits or upper-case letters; anything else is our bug.
int SqlstateCode(const std::string& sqlstate) {
  bool valid = sqlstate.size() == 5;
  for (char c : sqlstate) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
  if (!valid) return ERRCODE_INTERNAL_ERROR;
  return MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
}

}  // namespace

void CaptureCurrentException(PendingError& pending) noexcept {
  try {
    throw;
  } catch (const PgError& error) {
    pending.pg_error = error.Data();
  } catch (const phantom::Error& error) {
    pending.sqlerrcode = SqlstateCode(error.Sqlstate());
    CopyText(pending.message, sizeof(pending.message), error.what());
    CopyText(pending.detail, sizeof(pending.detail), error.Detail().c_str());
    CopyText(pending.hint, sizeof(pending.hint), error.Hint().c_str());
  } catch (const std::bad_alloc&) {
    pending.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
    CopyText(pending.message, sizeof(pending.message), "out of memory");
  } catch (const std::exception& error) {
    pending.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    std::snprintf(pending.message, sizeof(pending.message), "unexpected C++ exception: %s", error.what());
  } catch (...) {
    pending.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    CopyText(pending.message, sizeof(pending.message), "unexpected C++ exception of unknown type");
  }
}

void RaisePendingError(const PendingError& pending) {
  if (pending.pg_error != nullptr) ReThrowError(pending.pg_error);
  ereport(ERROR, (errcode(pending.sqlerrcode), errmsg_internal("%s", pending.message),
                  pending.detail[0] ? errdetail_internal("%s", pending.detail) : 0,
                  pending.hint[0] ? errhint("%s", pending.hint) : 0));
  pg_unreachable();
}

}  // namespace phantom::pg
