// Included last by every src/core .cpp file: a Postgres header pulled into the
// core (directly or through another header) becomes a compile error here, in
// the PGXS build as well as the CMake one (which has no Postgres include path).
#pragma once

#if defined(POSTGRES_H) || defined(PG_VERSION_NUM) || defined(FMGR_H)
#error "src/core must stay pure C++: a Postgres header was included"
#endif
