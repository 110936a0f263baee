// CRC-32C (Castagnoli), the checksum of every encoded command.
#pragma once

#include <cstdint>
#include <string_view>

namespace phantom {

uint32_t Crc32c(std::string_view data);

}  // namespace phantom
