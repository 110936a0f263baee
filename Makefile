# PGXS build of the phantomdb extension: src/pg (Postgres glue) linked with
# src/core (pure C++, also built and unit-tested by CMakeLists.txt).
# `make && make install` builds and installs; `make installcheck` runs the
# pg_regress, isolation and TAP suites (see docs/testing.md for the peers the
# node tests expect, which `bin/phantomctl test` starts).

EXTENSION = phantomdb
MODULE_big = phantomdb
DATA = $(wildcard sql/phantomdb--*.sql)

SOURCES = $(sort $(wildcard src/core/*/*.cpp src/pg/*.cpp src/pg/*/*.cpp))
OBJS = $(SOURCES:.cpp=.o)
PHANTOM_HEADERS = $(wildcard src/core/*/*.hpp src/pg/*.hpp src/pg/*/*.hpp)

PG_CPPFLAGS = -I$(srcdir)/src -I$(libpq_srcdir)
PG_CXXFLAGS = -std=c++20 -fPIC -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -Werror
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lstdc++ -lcurl

REGRESS = extension boundary nodes health raft distributed_tables router fallback pushdown ddl copy transactions sagas
REGRESS_OPTS = --inputdir=.
ISOLATION = add_node_concurrency distribute_concurrency distributed_deadlock multi_shard_writes recovery_race
ISOLATION_OPTS = --inputdir=test/isolation
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = results regression.diffs regression.out output_iso tmp_check log

# No LLVM bitcode: JIT inlining of C++ glue buys nothing and needs clang.
# Set before including PGXS, whose rules read it at include time.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(PHANTOM_HEADERS)

.PHONY: format
format:
	clang-format -i $(SOURCES) $(PHANTOM_HEADERS) $(wildcard test/core/*.cpp test/core/*.hpp)

# A long Raft simulation soak from a random seed base (docs/raft.md).
.PHONY: raft-soak
raft-soak:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2 --target raft_soak
