// An in-memory raft::FileSystem that models what survives a crash, for
// testing durable storage without a disk: bytes are durable only once the file
// is synced, and a file's name (created or removed) only once the directory
// is. A test can crash it at any operation and choose how much of what was not
// yet durable happens to survive, as it might on a real disk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/raft/file_storage.hpp"

namespace phantom::raft {

// Thrown by an armed MemoryFileSystem instead of performing an operation: the
// process (or the machine) died just before it. Not a phantom::Error, so that
// no code under test mistakes it for a failure it could handle.
struct SimulatedCrash {};

class MemoryFileSystem final : public FileSystem {
 public:
  std::vector<std::string> List() override;
  std::string ReadAll(const std::string& name) override;
  void Append(const std::string& name, std::string_view bytes) override;
  void Sync(const std::string& name) override;
  void Truncate(const std::string& name, uint64_t size) override;
  void Remove(const std::string& name) override;
  void SyncDirectory() override;

  // Power loss, losing everything not durable: files revert to their last
  // synced bytes, the directory to its last synced names.
  void Crash();
  // Power loss after the disk wrote back some of what was not durable: each
  // file keeps up to `bytes` of what was appended since its last sync (a torn
  // write); the directory reverts.
  void CrashKeeping(size_t bytes);
  // Power loss with a random outcome: each file keeps a random prefix of its
  // unsynced appends, and each name created or removed since the last
  // directory sync independently ends up either way.
  void Crash(std::mt19937_64& rng);

  // The operation `operations` mutating calls from now (0: the next) throws
  // SimulatedCrash instead of running; reads never count.
  void CrashAt(int operations) { crash_countdown_ = operations; }
  void Disarm() { crash_countdown_ = -1; }
  // The next Sync() throws phantom::Error, as a failed fsync does.
  void FailNextSync() { fail_next_sync_ = true; }

  // Bit rot: flips bits of one byte, durable copy included.
  void Corrupt(const std::string& name, size_t offset);
  bool Exists(const std::string& name) const { return live_.contains(name); }
  uint64_t Size(const std::string& name) const;
  int FileSyncs() const { return file_syncs_; }
  int DirectorySyncs() const { return directory_syncs_; }

 private:
  struct File {
    std::string bytes;
    std::string durable;  // as of the last Sync()
  };
  using Directory = std::map<std::string, std::shared_ptr<File>>;

  void Tick();
  File& Find(const std::string& name);
  void Settle(std::mt19937_64* rng, size_t keep_bytes);

  Directory live_;
  Directory durable_;  // as of the last SyncDirectory()
  int crash_countdown_ = -1;
  bool fail_next_sync_ = false;
  int file_syncs_ = 0;
  int directory_syncs_ = 0;
};

}  // namespace phantom::raft
