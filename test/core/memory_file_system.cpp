#include "memory_file_system.hpp"

#include <algorithm>
#include <set>

#include "core/common/error.hpp"

namespace phantom::raft {

void MemoryFileSystem::Tick() {
  if (crash_countdown_ < 0) return;
  if (crash_countdown_-- == 0) throw SimulatedCrash{};
}

MemoryFileSystem::File& MemoryFileSystem::Find(const std::string& name) {
  auto it = live_.find(name);
  if (it == live_.end()) throw Error(sqlstate::kUndefinedObject, "no file " + name);
  return *it->second;
}

std::vector<std::string> MemoryFileSystem::List() {
  std::vector<std::string> names;
  for (const auto& [name, file] : live_) names.push_back(name);
  return names;
}

std::string MemoryFileSystem::ReadAll(const std::string& name) { return Find(name).bytes; }

void MemoryFileSystem::Append(const std::string& name, std::string_view bytes) {
  Tick();
  auto& file = live_[name];
  if (file == nullptr) file = std::make_shared<File>();
  file->bytes.append(bytes);
}

void MemoryFileSystem::Sync(const std::string& name) {
  Tick();
  if (fail_next_sync_) {
    fail_next_sync_ = false;
    throw Error(sqlstate::kInternalError, "could not fsync file " + name);
  }
  File& file = Find(name);
  file.durable = file.bytes;
  file_syncs_++;
}

void MemoryFileSystem::Truncate(const std::string& name, uint64_t size) {
  Tick();
  File& file = Find(name);
  file.bytes.resize(std::min<uint64_t>(size, file.bytes.size()));
}

void MemoryFileSystem::Remove(const std::string& name) {
  Tick();
  Find(name);
  live_.erase(name);
}

void MemoryFileSystem::SyncDirectory() {
  Tick();
  durable_ = live_;
  directory_syncs_++;
}

void MemoryFileSystem::Crash() { Settle(nullptr, 0); }

void MemoryFileSystem::CrashKeeping(size_t bytes) { Settle(nullptr, bytes); }

void MemoryFileSystem::Crash(std::mt19937_64& rng) { Settle(&rng, 0); }

void MemoryFileSystem::Settle(std::mt19937_64* rng, size_t keep_bytes) {
  std::set<std::string> names;
  for (const auto& [name, file] : live_) names.insert(name);
  for (const auto& [name, file] : durable_) names.insert(name);
  Directory after;
  for (const std::string& name : names) {
    auto live = live_.find(name);
    auto durable = durable_.find(name);
    std::shared_ptr<File> file = durable == durable_.end() ? nullptr : durable->second;
    std::shared_ptr<File> live_file = live == live_.end() ? nullptr : live->second;
    // A name change not yet synced may or may not have reached the disk.
    if (file != live_file && rng != nullptr && (*rng)() % 2 == 0) file = live_file;
    if (file != nullptr) after[name] = file;
  }
  for (auto& [name, file] : after) {
    std::string& bytes = file->bytes;
    const std::string& durable = file->durable;
    // Only appends past the durable bytes can partly survive; anything else
    // (a truncation not yet synced) reverts.
    size_t keep = 0;
    if (bytes.size() > durable.size() && bytes.compare(0, durable.size(), durable) == 0) {
      const size_t unsynced = bytes.size() - durable.size();
      keep = rng != nullptr ? (*rng)() % (unsynced + 1) : std::min(keep_bytes, unsynced);
    }
    bytes = keep == 0 ? durable : durable + bytes.substr(durable.size(), keep);
    file->durable = bytes;
  }
  live_ = after;
  durable_ = after;
  crash_countdown_ = -1;
  fail_next_sync_ = false;
}

void MemoryFileSystem::Corrupt(const std::string& name, size_t offset) {
  File& file = Find(name);
  file.bytes.at(offset) = static_cast<char>(file.bytes.at(offset) ^ 0x5A);
  if (offset < file.durable.size()) file.durable[offset] = file.bytes[offset];
}

uint64_t MemoryFileSystem::Size(const std::string& name) const { return live_.at(name)->bytes.size(); }

}  // namespace phantom::raft
