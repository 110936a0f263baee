// Little-endian binary writing and bounds-checked reading, for codecs. The
// reader never trusts a length: it checks it against the bytes present
// before allocating anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace phantom {

class ByteWriter {
 public:
  void PutU8(uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
  void PutBool(bool value) { PutU8(value ? 1 : 0); }
  void PutU32(uint32_t value);
  void PutI32(int32_t value) { PutU32(static_cast<uint32_t>(value)); }
  void PutU64(uint64_t value);
  void PutI64(int64_t value) { PutU64(static_cast<uint64_t>(value)); }
  void PutString(std::string_view value);  // u32 length, then the bytes
  void PutBytes(std::string_view value) { bytes_.append(value); }

  size_t Size() const { return bytes_.size(); }
  const std::string& Bytes() const { return bytes_; }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Every getter throws phantom::Error (XX001, "<what> is corrupted: ...") when
// the input ends early.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const char* what) : bytes_(bytes), what_(what) {}

  uint8_t GetU8();
  bool GetBool();
  uint32_t GetU32();
  int32_t GetI32() { return static_cast<int32_t>(GetU32()); }
  uint64_t GetU64();
  int64_t GetI64() { return static_cast<int64_t>(GetU64()); }
  std::string GetString();
  std::string_view GetBytes(size_t count);

  size_t Remaining() const { return bytes_.size() - position_; }
  // Throws unless every byte was read.
  void ExpectEnd() const;
  [[noreturn]] void Fail(const std::string& problem) const;

 private:
  void Need(size_t count) const;

  std::string_view bytes_;
  size_t position_ = 0;
  const char* what_;
};

}  // namespace phantom
