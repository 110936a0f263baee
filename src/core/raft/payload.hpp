// The bytes of a Raft entry: immutable and shared. One entry travels from the
// leader's log into Ready::entries, storage, an append message per follower,
// each follower's log and storage, and committed_entries on every member. If
// each of those copies owned its bytes, a small proposal would cost a heap
// allocation per hop; sharing one reference-counted buffer makes every copy
// after the first a counter increment. (etcd gets the same effect for free:
// copies of a Go slice share the backing array.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace phantom::raft {

class Payload {
 public:
  // Empty; allocates nothing.
  Payload() noexcept = default;
  // Copies the bytes once, into a single allocation that holds the reference
  // count, the size and the bytes. Implicit so that a std::string or literal
  // can stand wherever a Payload is expected (Propose("x"), Entry{..., "x"}).
  Payload(std::string_view bytes);                                         // NOLINT(google-explicit-constructor)
  Payload(const std::string& bytes) : Payload(std::string_view(bytes)) {}  // NOLINT(google-explicit-constructor)
  Payload(const char* bytes) : Payload(std::string_view(bytes)) {}         // NOLINT(google-explicit-constructor)

  Payload(const Payload& other) noexcept : buf_(other.buf_) {
    // Relaxed: a new reference is made from an existing one, which already
    // keeps the buffer alive; nothing is published by the increment.
    if (buf_ != nullptr) buf_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  // A moved-from Payload is empty.
  Payload(Payload&& other) noexcept : buf_(std::exchange(other.buf_, nullptr)) {}
  Payload& operator=(const Payload& other) noexcept {
    Payload copy(other);
    std::swap(buf_, copy.buf_);
    return *this;
  }
  Payload& operator=(Payload&& other) noexcept {
    Payload moved(std::move(other));
    std::swap(buf_, moved.buf_);
    return *this;
  }
  ~Payload() { Release(); }

  const char* data() const noexcept { return buf_ == nullptr ? "" : buf_->bytes(); }
  size_t size() const noexcept { return buf_ == nullptr ? 0 : buf_->size; }
  bool empty() const noexcept { return size() == 0; }
  std::string_view view() const noexcept { return {data(), size()}; }
  std::string str() const { return std::string(view()); }

  // Byte comparison (two payloads with equal bytes are equal whether or not
  // they share a buffer). The string overloads keep `entry.data == "x"`
  // unambiguous and allocation-free.
  friend bool operator==(const Payload& a, const Payload& b) noexcept {
    return a.buf_ == b.buf_ || a.view() == b.view();
  }
  friend bool operator==(const Payload& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const Payload& a, const std::string& b) noexcept { return a.view() == b; }
  friend bool operator==(const Payload& a, const char* b) noexcept { return a.view() == b; }

 private:
  // Header of the single allocation; the bytes follow it.
  struct Buffer {
    // Atomic although a Raft instance is single-threaded: the application may
    // hand committed entries to another thread while the node keeps copies.
    std::atomic<size_t> refs;
    size_t size;

    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
  };

  void Release() noexcept {
    // acq_rel: whoever drops the last reference must see every other owner's
    // reads of the bytes finished before the buffer is freed.
    if (buf_ != nullptr && buf_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(buf_);
    buf_ = nullptr;
  }
  // Out of line: only the last owner pays for the call.
  static void Free(Buffer* buf) noexcept;

  Buffer* buf_ = nullptr;
};

}  // namespace phantom::raft
