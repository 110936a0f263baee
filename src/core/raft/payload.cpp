#include "core/raft/payload.hpp"

#include <cstring>
#include <new>

#include "core/common/pure.hpp"

namespace phantom::raft {

Payload::Payload(std::string_view bytes) {
  if (bytes.empty()) return;
  void* raw = ::operator new(sizeof(Buffer) + bytes.size());
  buf_ = new (raw) Buffer{1, bytes.size()};
  std::memcpy(buf_->bytes(), bytes.data(), bytes.size());
}

void Payload::Free(Buffer* buf) noexcept {
  buf->~Buffer();
  ::operator delete(buf);
}

}  // namespace phantom::raft
