// The router's CustomScan: at execution it evaluates the pins, picks the
// shard and its node, runs the shard SQL there (through SPI when the node is
// this one, over the backend's node connection otherwise) and returns the
// rows; for a write it adds the rows written to the statement's count.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/extensible.h"
}

namespace phantom::pg {

extern const CustomScanMethods RouterScanMethods;

// From _PG_init: lets plans holding the scan be copied, read and written.
void RegisterRouterScan();

}  // namespace phantom::pg
