// Encoding and decoding of FileStorage's files; layout in log_file_format.hpp.
#include "core/raft/log_file_format.hpp"

#include <cstdio>
#include <limits>

#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/raft/message_codec.hpp"
#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

constexpr size_t kMinEntrySize = 8 + 8 + 1 + 4;  // term, index, type, data length
constexpr size_t kNameDigits = 20;               // every u64 fits in 20 decimal digits
constexpr std::string_view kSegmentPrefix = "log-";
constexpr std::string_view kSnapshotPrefix = "snap-";

uint32_t ReadU32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return value;
}

void WriteU32(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; i++) bytes[at + i] = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
}

// Fills in the header that `bytes` reserved at its start.
std::string SealFrame(std::string bytes, const char* what) {
  const size_t payload = bytes.size() - kLogBatchHeaderSize;
  if (payload > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, std::string("cannot write a ") + what + " of " + std::to_string(payload) +
                                              " bytes (the limit is 4 GiB)");
  WriteU32(bytes, 4, static_cast<uint32_t>(payload));
  WriteU32(bytes, 0, Crc32c(std::string_view(bytes).substr(4)));
  return bytes;
}

void PutMeta(ByteWriter& out, const SnapshotMeta& meta) {
  out.PutU64(meta.index);
  out.PutU64(meta.term);
  PutConfStateFields(out, meta.conf);
}

SnapshotMeta GetMeta(ByteReader& in) {
  SnapshotMeta meta;
  meta.index = in.GetU64();
  meta.term = in.GetU64();
  meta.conf = GetConfStateFields(in);
  return meta;
}

LogRecord GetRecord(ByteReader& in) {
  const uint8_t type = in.GetU8();
  switch (static_cast<LogRecordType>(type)) {
    case LogRecordType::kCheckpoint: {
      LogCheckpoint checkpoint;
      checkpoint.segment = in.GetU64();
      checkpoint.hard_state = GetHardStateFields(in);
      checkpoint.conf_state = GetConfStateFields(in);
      checkpoint.base_index = in.GetU64();
      checkpoint.base_term = in.GetU64();
      checkpoint.snapshot_generation = in.GetU64();
      return checkpoint;
    }
    case LogRecordType::kEntries: {
      const uint32_t count = in.GetU32();
      // Trust the count only as far as the bytes present could hold it.
      if (count > in.Remaining() / kMinEntrySize)
        in.Fail(std::to_string(count) + " entries cannot fit in the " + std::to_string(in.Remaining()) +
                " remaining byte(s)");
      std::vector<Entry> entries;
      entries.reserve(count);
      for (uint32_t i = 0; i < count; i++) entries.push_back(GetEntryFields(in));
      return entries;
    }
    case LogRecordType::kHardState:
      return GetHardStateFields(in);
    case LogRecordType::kConfState:
      return GetConfStateFields(in);
    case LogRecordType::kCompact: {
      LogCompact compact;
      compact.index = in.GetU64();
      compact.term = in.GetU64();
      return compact;
    }
    case LogRecordType::kCreateSnapshot:
    case LogRecordType::kInstallSnapshot: {
      LogSnapshot snapshot;
      snapshot.install = static_cast<LogRecordType>(type) == LogRecordType::kInstallSnapshot;
      snapshot.generation = in.GetU64();
      snapshot.meta = GetMeta(in);
      return snapshot;
    }
  }
  in.Fail("unknown record type " + std::to_string(type));
}

std::string FileName(std::string_view prefix, uint64_t number) {
  char digits[kNameDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(number));
  return std::string(prefix) + digits;
}

std::optional<uint64_t> ParseFileName(std::string_view name, std::string_view prefix) {
  if (name.size() != prefix.size() + kNameDigits || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  uint64_t number = 0;
  for (char c : name.substr(prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (number > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    number = number * 10 + digit;
  }
  return number;
}

}  // namespace

void LogBatchWriter::Reset() {
  out_ = ByteWriter();
  out_.PutU32(0);  // checksum and length, filled in by Seal()
  out_.PutU32(0);
  out_.PutU8(kLogFormatVersion);
  records_ = 0;
}

void LogBatchWriter::AddCheckpoint(const LogCheckpoint& checkpoint) {
  // Encoded aside first: the conf state is checked as it is written, and a
  // half-written record would damage the whole batch.
  ByteWriter record;
  record.PutU8(static_cast<uint8_t>(LogRecordType::kCheckpoint));
  record.PutU64(checkpoint.segment);
  PutHardStateFields(record, checkpoint.hard_state);
  PutConfStateFields(record, checkpoint.conf_state);
  record.PutU64(checkpoint.base_index);
  record.PutU64(checkpoint.base_term);
  record.PutU64(checkpoint.snapshot_generation);
  out_.PutBytes(record.Bytes());
  records_++;
}

void LogBatchWriter::AddEntries(std::span<const Entry> entries) {
  // Checked up front, so that the entries go straight into the batch (no
  // second copy of their bytes) and yet nothing is half written.
  if (entries.size() > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, "cannot write " + std::to_string(entries.size()) + " raft entries at once");
  for (const Entry& entry : entries)
    if (entry.data.size() > std::numeric_limits<uint32_t>::max())
      throw Error(sqlstate::kInternalError,
                  "cannot write a raft entry of " + std::to_string(entry.data.size()) + " bytes");
  out_.PutU8(static_cast<uint8_t>(LogRecordType::kEntries));
  out_.PutU32(static_cast<uint32_t>(entries.size()));
  for (const Entry& entry : entries) PutEntryFields(out_, entry);
  records_++;
}

void LogBatchWriter::AddHardState(const HardState& state) {
  out_.PutU8(static_cast<uint8_t>(LogRecordType::kHardState));
  PutHardStateFields(out_, state);
  records_++;
}

void LogBatchWriter::AddConfState(const ConfState& conf) {
  ByteWriter record;
  record.PutU8(static_cast<uint8_t>(LogRecordType::kConfState));
  PutConfStateFields(record, conf);
  out_.PutBytes(record.Bytes());
  records_++;
}

void LogBatchWriter::AddCompact(const LogCompact& compact) {
  out_.PutU8(static_cast<uint8_t>(LogRecordType::kCompact));
  out_.PutU64(compact.index);
  out_.PutU64(compact.term);
  records_++;
}

void LogBatchWriter::AddSnapshot(const LogSnapshot& snapshot) {
  ByteWriter record;
  record.PutU8(
      static_cast<uint8_t>(snapshot.install ? LogRecordType::kInstallSnapshot : LogRecordType::kCreateSnapshot));
  record.PutU64(snapshot.generation);
  PutMeta(record, snapshot.meta);
  out_.PutBytes(record.Bytes());
  records_++;
}

std::string LogBatchWriter::Seal() {
  std::string bytes = SealFrame(out_.Take(), "raft log batch");
  Reset();
  return bytes;
}

LogBatchRead ReadLogBatch(std::string_view bytes, size_t offset, const std::string& what) {
  LogBatchRead read;
  const std::string_view rest = bytes.substr(offset);
  if (rest.empty()) return read;
  read.status = LogBatchRead::Status::kTorn;
  if (rest.size() < kLogBatchHeaderSize) {
    read.problem = "incomplete batch header of " + std::to_string(rest.size()) + " byte(s)";
    return read;
  }
  const uint32_t length = ReadU32(rest, 4);
  if (length > rest.size() - kLogBatchHeaderSize) {
    read.problem = "batch length " + std::to_string(length) + " exceeds the " +
                   std::to_string(rest.size() - kLogBatchHeaderSize) + " byte(s) left";
    return read;
  }
  if (Crc32c(rest.substr(4, 4 + length)) != ReadU32(rest, 0)) {
    read.problem = "checksum mismatch";
    return read;
  }
  const std::string payload_what = what + " batch at offset " + std::to_string(offset);
  ByteReader in(rest.substr(kLogBatchHeaderSize, length), payload_what.c_str());
  const uint8_t version = in.GetU8();
  if (version != kLogFormatVersion)
    in.Fail("unknown format version " + std::to_string(version) + " (this build reads version " +
            std::to_string(kLogFormatVersion) + ")");
  while (in.Remaining() > 0) read.records.push_back(GetRecord(in));
  read.status = LogBatchRead::Status::kOk;
  read.size = kLogBatchHeaderSize + length;
  return read;
}

std::string EncodeSnapshotFile(uint64_t generation, const Snapshot& snapshot) {
  ByteWriter out;
  out.PutU32(0);
  out.PutU32(0);
  out.PutU8(kLogFormatVersion);
  out.PutU64(generation);
  PutMeta(out, snapshot.meta);
  out.PutString(snapshot.data);
  return SealFrame(out.Take(), "raft snapshot file");
}

Snapshot DecodeSnapshotFile(std::string_view bytes, uint64_t generation, const std::string& what) {
  ByteReader frame(bytes, what.c_str());
  if (bytes.size() < kLogBatchHeaderSize) frame.Fail(std::to_string(bytes.size()) + " byte(s) is too short");
  const uint32_t length = ReadU32(bytes, 4);
  if (length != bytes.size() - kLogBatchHeaderSize)
    frame.Fail("length " + std::to_string(length) + " does not match the " +
               std::to_string(bytes.size() - kLogBatchHeaderSize) + " byte(s) present");
  if (Crc32c(bytes.substr(4)) != ReadU32(bytes, 0)) frame.Fail("checksum mismatch");
  ByteReader in(bytes.substr(kLogBatchHeaderSize), what.c_str());
  const uint8_t version = in.GetU8();
  if (version != kLogFormatVersion)
    in.Fail("unknown format version " + std::to_string(version) + " (this build reads version " +
            std::to_string(kLogFormatVersion) + ")");
  if (const uint64_t stored = in.GetU64(); stored != generation)
    in.Fail("holds generation " + std::to_string(stored) + ", not " + std::to_string(generation));
  Snapshot snapshot;
  snapshot.meta = GetMeta(in);
  snapshot.data = in.GetString();
  in.ExpectEnd();
  return snapshot;
}

std::string SegmentFileName(uint64_t sequence) { return FileName(kSegmentPrefix, sequence); }

std::string SnapshotFileName(uint64_t generation) { return FileName(kSnapshotPrefix, generation); }

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) { return ParseFileName(name, kSegmentPrefix); }

std::optional<uint64_t> ParseSnapshotFileName(std::string_view name) { return ParseFileName(name, kSnapshotPrefix); }

}  // namespace phantom::raft
