// raft::FileSystem over one real directory: what FileStorage needs to make
// the Raft log and hard state durable (fsync of files and of the directory).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/raft/file_storage.hpp"

namespace phantom::pg {

class PosixFileSystem final : public raft::FileSystem {
 public:
  // Creates the directory (and its parent) when missing.
  explicit PosixFileSystem(std::string directory);

  std::vector<std::string> List() override;
  std::string ReadAll(const std::string& name) override;
  void Append(const std::string& name, std::string_view bytes) override;
  void Sync(const std::string& name) override;
  void Truncate(const std::string& name, uint64_t size) override;
  void Remove(const std::string& name) override;
  void SyncDirectory() override;

  // Removes every file in the directory (a node that left its cluster, or a
  // new incarnation of the extension, must not replay an old log).
  void RemoveAll();
  const std::string& Directory() const { return directory_; }

 private:
  std::string Path(const std::string& name) const { return directory_ + "/" + name; }

  std::string directory_;
};

}  // namespace phantom::pg
