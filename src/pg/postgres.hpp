// The one way glue code includes Postgres's server headers: inside extern "C",
// with the few macros that clash with C++ removed. Only src/pg includes this.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
}

// c.h defines these as macros; they break <algorithm> and friends.
#undef Min
#undef Max
#undef Abs

namespace phantom::pg {

// Postgres 15 declares tree walker callbacks as `bool (*)()`; the casts to
// that type live here.
// The detour through void (*)(void) is the sanctioned way to silence
// -Wcast-function-type; Postgres calls the function with (Node*, void*).
inline auto Walker(bool (*fn)(Node*, void*)) {
  return reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)(void)>(fn));
}
inline auto Mutator(Node* (*fn)(Node*, void*)) {
  return reinterpret_cast<Node* (*)()>(reinterpret_cast<void (*)(void)>(fn));
}

}  // namespace phantom::pg
