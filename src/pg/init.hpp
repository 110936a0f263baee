// Library load state.
#pragma once

namespace phantom::pg {

// True when the postmaster loaded the library through shared_preload_libraries.
bool LoadedAtStartup();

}  // namespace phantom::pg
