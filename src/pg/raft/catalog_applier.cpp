// Applying committed metadata entries to the catalog; see catalog_applier.hpp.
#include "pg/raft/catalog_applier.hpp"

#include "core/common/error.hpp"
#include "core/metadata/catalog_image.hpp"
#include "core/metadata/command_apply.hpp"
#include "core/metadata/command_codec.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

namespace phantom::pg::catalog_applier {

int64_t AppliedIndex() {
  spi::Execute("SELECT applied_index FROM phantomdb.metadata_applied");
  return spi::RowCount() == 0 ? 0 : spi::GetInt64(0, 0);
}

void SetAppliedIndex(int64_t index) {
  ApplyingScope scope;
  spi::Execute("UPDATE phantomdb.metadata_applied SET applied_index = $1", {spi::Int64(index)});
}

namespace {

void InsertLogRow(int64_t index, int64_t term, const std::string& type, const std::string& bytes, uint64_t proposal_id,
                  int32_t origin, const std::string& outcome) {
  ApplyingScope scope;
  spi::Execute(
      "INSERT INTO phantomdb.metadata_log (log_index, term, command_type, command, proposal_id, origin, refused) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (log_index) DO NOTHING",
      {spi::Int64(index), spi::Int64(term), spi::Text(type), spi::Bytea(bytes),
       spi::Int64(static_cast<int64_t>(proposal_id)), spi::Int32(origin),
       outcome.empty() ? spi::OptionalText(std::nullopt) : spi::Text(outcome)});
}

}  // namespace

Applied ApplyProposal(const metadata::Proposal& proposal, int64_t index, int64_t term) {
  Applied applied;
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  PgCall([] { BeginInternalSubTransaction(nullptr); });
  try {
    ApplyingScope scope;
    SpiCatalogStore store;
    metadata::ApplyCommand(store, proposal, index);
    PgCall([] { ReleaseCurrentSubTransaction(); });
  } catch (const Error& error) {
    PgCall([] { RollbackAndReleaseCurrentSubTransaction(); });
    applied.sqlstate = error.Sqlstate();
    applied.message = error.Message();
    applied.hint = error.Hint();
  }
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  InsertLogRow(index, term, metadata::CommandName(proposal.command), metadata::EncodeCommand(proposal.command),
               proposal.id, proposal.origin, applied.message);
  if (applied.sqlstate.empty()) metadata_cache::InvalidateAll();
  return applied;
}

void RecordEntry(int64_t index, int64_t term, const std::string& description) {
  InsertLogRow(index, term, description, "", 0, 0, "");
}

std::string CatalogImageBytes() {
  SpiCatalogStore store;
  return metadata::EncodeImage(metadata::ReadImage(store));
}

void RestoreCatalog(const std::string& image_bytes, int64_t index) {
  const metadata::CatalogImage image = metadata::DecodeImage(image_bytes);
  ApplyingScope scope;
  SpiCatalogStore store;
  metadata::RestoreImage(store, image);
  SetAppliedIndex(index);
  metadata_cache::InvalidateAll();
}

void ClearCatalog() {
  ApplyingScope scope;
  SpiCatalogStore store;
  metadata::RestoreImage(store, metadata::CatalogImage{});
  spi::Execute("DELETE FROM phantomdb.metadata_log");
  spi::Execute("DELETE FROM phantomdb.local_node");
  SetAppliedIndex(0);
  metadata_cache::InvalidateAll();
}

std::optional<Identity> LoadIdentity() {
  spi::Execute("SELECT node_id, cluster_id::text FROM phantomdb.local_node");
  if (spi::RowCount() == 0) return std::nullopt;
  return Identity{spi::GetInt32(0, 0), spi::GetText(0, 1)};
}

void StoreIdentity(const Identity& identity) {
  ApplyingScope scope;
  spi::Execute("DELETE FROM phantomdb.local_node");
  spi::Execute("INSERT INTO phantomdb.local_node (node_id, cluster_id) VALUES ($1, $2::uuid)",
               {spi::Int32(identity.node_id), spi::Text(identity.cluster_id)});
  metadata_cache::InvalidateAll();
}

}  // namespace phantom::pg::catalog_applier
