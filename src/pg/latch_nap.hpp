// A backend's short wait for something another process does (the raft
// worker applying an entry, a peer changing state): a nap on its latch that
// ends early when the latch is set, then a check for cancel and termination.
#pragma once

namespace phantom::pg {

// Waits up to ms on MyLatch; a pending cancel or termination becomes a
// PgError (guard.hpp) once the nap ends.
void NapOnLatch(long ms);

}  // namespace phantom::pg
