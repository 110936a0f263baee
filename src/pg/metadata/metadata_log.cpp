// Appending to and applying from the local metadata log; see metadata_log.hpp.
#include "pg/metadata/metadata_log.hpp"

#include "core/metadata/command_apply.hpp"
#include "core/metadata/command_codec.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/spi.hpp"

namespace phantom::pg {

namespace {

bool applying = false;

// Opens the catalog for writing for its lifetime; a plain flag, so resetting
// it on unwind calls nothing in Postgres.
class ApplyingScope {
 public:
  ApplyingScope() { applying = true; }
  ~ApplyingScope() { applying = false; }
  ApplyingScope(const ApplyingScope&) = delete;
  ApplyingScope& operator=(const ApplyingScope&) = delete;
};

}  // namespace

bool ApplyingMetadataCommand() { return applying; }

void LockMetadata() { spi::Execute("LOCK TABLE phantomdb.metadata_log IN EXCLUSIVE MODE"); }

int64_t ProposeCommand(const metadata::Command& command) {
  const std::string bytes = metadata::EncodeCommand(command);
  spi::Execute("SELECT coalesce(max(log_index), 0) + 1 FROM phantomdb.metadata_log");
  const int64_t index = spi::GetInt64(0, 0);

  ApplyingScope scope;
  spi::Execute("INSERT INTO phantomdb.metadata_log (log_index, term, command_type, command) VALUES ($1, 0, $2, $3)",
               {spi::Int64(index), spi::Text(metadata::CommandName(command)), spi::Bytea(bytes)});
  // Apply what the log holds, not the in-memory command: a replica will only
  // ever see the bytes.
  spi::Execute("SELECT command FROM phantomdb.metadata_log WHERE log_index = $1", {spi::Int64(index)});
  const metadata::Command logged = metadata::DecodeCommand(spi::GetBytea(0, 0));
  SpiCatalogStore store;
  metadata::ApplyCommand(store, logged);
  spi::Execute("UPDATE phantomdb.metadata_applied SET applied_index = $1", {spi::Int64(index)});
  metadata_cache::InvalidateAll();
  return index;
}

}  // namespace phantom::pg
