// Cluster ids are random (version 4) UUIDs; the randomness is the caller's.
#pragma once

#include <string>
#include <string_view>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

// Turns 16 random bytes into a version-4 UUID.
ClusterId MakeClusterId(ClusterId random_bytes);

// The canonical text form, 8-4-4-4-12 lowercase hex digits.
std::string FormatClusterId(const ClusterId& id);

// Parses the canonical text form (either case); throws phantom::Error (22023)
// naming the value otherwise.
ClusterId ParseClusterId(std::string_view text);

}  // namespace phantom::metadata
