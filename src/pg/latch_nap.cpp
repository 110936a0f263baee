// Napping on the latch; see latch_nap.hpp.
#include "pg/latch_nap.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
}

namespace phantom::pg {

void NapOnLatch(long ms) {
  PgCall([&] {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
  });
  CheckForInterrupts();
}

}  // namespace phantom::pg
