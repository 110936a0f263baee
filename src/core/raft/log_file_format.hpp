// The on-disk format of FileStorage (file_storage.hpp). Integers are
// little-endian; Raft values use the field layouts of message_codec.hpp.
//
// The directory holds two kinds of file:
//   log-<20-digit sequence>   log segments, written append-only in sequence order
//   snap-<20-digit generation> one snapshot each, never rewritten
//
// A segment is a sequence of batches, one per FileStorage::Sync():
//   CRC-32C u32 over everything after it | payload length u32 | payload
//   payload = format version u8 | record...
//   record  = type u8 | fields (below)
// One checksum covers a whole batch, so a batch torn by a crash fails it as a
// unit: recovery sees all of a Ready's records or none, never half a suffix
// overwrite. The checksum comes first so that it covers the length too.
//
// Every segment starts with a checkpoint record: the state that the records
// before it produced (all but the entries). Replaying a suffix of the segments
// from a checkpoint therefore reproduces the state exactly, which is what lets
// compaction delete the segments before it.
//
// A snapshot file is one batch-framed payload:
//   format version u8 | generation u64 | index u64 | term u64 | conf | data (u32 length + bytes)
// Its generation is named by a kCreateSnapshot / kInstallSnapshot record (or a
// checkpoint); until that record is durable the file is garbage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/common/byte_buffer.hpp"
#include "core/raft/types.hpp"

namespace phantom::raft {

inline constexpr uint8_t kLogFormatVersion = 1;
inline constexpr size_t kLogBatchHeaderSize = 4 + 4;  // checksum, payload length

// Record types; part of the format.
enum class LogRecordType : uint8_t {
  kCheckpoint = 1,
  kEntries = 2,  // u32 count, entries; appending them overwrites a conflicting suffix
  kHardState = 3,
  kConfState = 4,
  kCompact = 5,          // index u64, term u64: the new base of the log
  kCreateSnapshot = 6,   // generation u64, index u64, term u64, conf
  kInstallSnapshot = 7,  // same fields; the snapshot replaces the whole log
};

// The state at the start of a segment:
//   segment u64 | hard state | conf state | base index u64 | base term u64 | snapshot generation u64
struct LogCheckpoint {
  uint64_t segment = 0;  // the segment's own sequence number, against misnamed files
  HardState hard_state;
  ConfState conf_state;
  Index base_index = 0;              // the log's FirstIndex() - 1 ...
  Term base_term = 0;                // ... and its term
  uint64_t snapshot_generation = 0;  // 0: no snapshot

  bool operator==(const LogCheckpoint&) const = default;
};

struct LogCompact {
  Index index = 0;
  Term term = 0;

  bool operator==(const LogCompact&) const = default;
};

struct LogSnapshot {
  uint64_t generation = 0;
  SnapshotMeta meta;
  bool install = false;  // kInstallSnapshot rather than kCreateSnapshot

  bool operator==(const LogSnapshot&) const = default;
};

using LogRecord = std::variant<LogCheckpoint, std::vector<Entry>, HardState, ConfState, LogCompact, LogSnapshot>;

// Accumulates records and seals them into one batch. Entry bytes are copied
// once, into the batch. An Add* that throws (XX000: a value the format cannot
// hold, such as an unsorted conf state) leaves the batch as it was.
class LogBatchWriter {
 public:
  LogBatchWriter() { Reset(); }

  void AddCheckpoint(const LogCheckpoint& checkpoint);
  void AddEntries(std::span<const Entry> entries);
  void AddHardState(const HardState& state);
  void AddConfState(const ConfState& conf);
  void AddCompact(const LogCompact& compact);
  void AddSnapshot(const LogSnapshot& snapshot);

  bool Empty() const { return records_ == 0; }
  // The framed batch; the writer starts over empty. Throws phantom::Error
  // (XX000) past 4 GiB, which the u32 length cannot express.
  std::string Seal();

 private:
  void Reset();

  ByteWriter out_;  // header placeholder, version, records
  size_t records_ = 0;
};

// One batch read from a segment.
struct LogBatchRead {
  enum class Status : uint8_t {
    kOk,    // records holds the batch; size is its length in bytes
    kEnd,   // offset is the end of the bytes
    kTorn,  // no valid batch at offset (problem says why): a torn write, or damage
  };
  Status status = Status::kEnd;
  size_t size = 0;
  std::vector<LogRecord> records;
  std::string problem;
};

// Reads the batch at `offset`. A batch whose checksum holds but whose payload
// does not decode is not a torn write, so it throws phantom::Error (XX001)
// naming `what` and the offset rather than returning kTorn.
LogBatchRead ReadLogBatch(std::string_view bytes, size_t offset, const std::string& what);

std::string EncodeSnapshotFile(uint64_t generation, const Snapshot& snapshot);
// Throws phantom::Error (XX001, "<what> is corrupted: ...") unless the bytes
// are exactly one valid snapshot file of this generation.
Snapshot DecodeSnapshotFile(std::string_view bytes, uint64_t generation, const std::string& what);

std::string SegmentFileName(uint64_t sequence);
std::string SnapshotFileName(uint64_t generation);
// The number in a name those functions made; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
std::optional<uint64_t> ParseSnapshotFileName(std::string_view name);

}  // namespace phantom::raft
