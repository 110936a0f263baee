// The maintenance worker's duties for distributed transactions (see
// maintenance_worker.hpp): prepared-transaction recovery, distributed
// deadlock detection, sagas.
#pragma once

namespace phantom::pg {

// From _PG_init when preloaded.
void RegisterTransactionDuties();

}  // namespace phantom::pg
