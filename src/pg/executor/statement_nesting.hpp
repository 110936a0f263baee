// How deeply the current statement is nested: a statement run by a function,
// a trigger, a DO block or a procedure is part of a bigger unit of work even
// outside a transaction block, so its remote work must join the local
// transaction (connection_pool.hpp) instead of committing by itself.
#pragma once

namespace phantom::pg::statement_nesting {

// Whether a statement runs inside another one (or inside DO / CALL).
bool Nested() noexcept;

// Runs a DO or CALL statement (a plain C callback, like the utility hook's
// calls) counted as one level of nesting.
void RunCounted(void (*run)(void*), void* argument);

// Installs the executor hooks that count; from _PG_init.
void InstallHooks();

}  // namespace phantom::pg::statement_nesting
