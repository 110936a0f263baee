// Real files for FileStorage; see posix_file_system.hpp. Plain POSIX calls,
// no Postgres: this runs inside the raft worker's loop, where an error is a
// phantom::Error the worker reports before it exits.
#include "pg/raft/posix_file_system.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/common/error.hpp"

namespace phantom::pg {

namespace {

[[noreturn]] void Fail(const std::string& what, const std::string& path) {
  throw Error("58030", "could not " + what + " \"" + path + "\": " + std::strerror(errno));
}

// Closes on every path out, so an error never leaks a descriptor.
class Fd {
 public:
  Fd(const std::string& path, int flags) : fd_(open(path.c_str(), flags | O_CLOEXEC, 0600)) {
    if (fd_ < 0) Fail("open", path);
  }
  ~Fd() { close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void MakeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) Fail("create directory", path);
}

}  // namespace

PosixFileSystem::PosixFileSystem(std::string directory) : directory_(std::move(directory)) {
  const size_t slash = directory_.rfind('/');
  if (slash != std::string::npos && slash > 0) MakeDirectory(directory_.substr(0, slash));
  MakeDirectory(directory_);
}

std::vector<std::string> PosixFileSystem::List() {
  DIR* dir = opendir(directory_.c_str());
  if (dir == nullptr) Fail("open directory", directory_);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int saved = errno;
  closedir(dir);
  errno = saved;
  if (saved != 0) Fail("read directory", directory_);
  return names;
}

std::string PosixFileSystem::ReadAll(const std::string& name) {
  Fd fd(Path(name), O_RDONLY);
  std::string bytes;
  char buffer[65536];
  for (;;) {
    const ssize_t got = read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) Fail("read", Path(name));
    if (got == 0) break;
    bytes.append(buffer, static_cast<size_t>(got));
  }
  return bytes;
}

void PosixFileSystem::Append(const std::string& name, std::string_view bytes) {
  Fd fd(Path(name), O_WRONLY | O_CREAT | O_APPEND);
  while (!bytes.empty()) {
    const ssize_t wrote = write(fd.get(), bytes.data(), bytes.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) Fail("write", Path(name));
    bytes.remove_prefix(static_cast<size_t>(wrote));
  }
}

void PosixFileSystem::Sync(const std::string& name) {
  Fd fd(Path(name), O_RDONLY);
  if (fdatasync(fd.get()) != 0) Fail("fsync", Path(name));
}

void PosixFileSystem::Truncate(const std::string& name, uint64_t size) {
  if (truncate(Path(name).c_str(), static_cast<off_t>(size)) != 0) Fail("truncate", Path(name));
}

void PosixFileSystem::Remove(const std::string& name) {
  if (unlink(Path(name).c_str()) != 0 && errno != ENOENT) Fail("remove", Path(name));
}

void PosixFileSystem::SyncDirectory() {
  Fd fd(directory_, O_RDONLY | O_DIRECTORY);
  if (fsync(fd.get()) != 0) Fail("fsync directory", directory_);
}

void PosixFileSystem::RemoveAll() {
  for (const std::string& name : List()) Remove(name);
  SyncDirectory();
}

}  // namespace phantom::pg
