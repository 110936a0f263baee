// Where a node in no cluster looks for one (phantomdb.seeds and the JSON a
// phantomdb.discovery_url returns): parsing and checking the addresses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace phantom::metadata {

struct SeedAddress {
  std::string host;
  int32_t port = 0;

  bool operator==(const SeedAddress&) const = default;
};

// "host:port, host:port" (spaces around entries ignored; empty: none).
// Throws phantom::Error (22023) naming the offending entry: no port, a port
// outside 1..65535, an empty host.
std::vector<SeedAddress> ParseSeeds(std::string_view list);

// A JSON array of "host:port" strings, e.g. ["10.0.0.1:5432", "db2:5432"].
// Throws phantom::Error (22P02) for anything else, naming what was wrong
// and where (byte offset).
std::vector<SeedAddress> ParseSeedsJson(std::string_view json);

}  // namespace phantom::metadata
