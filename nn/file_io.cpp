// file_io.cpp — atomic writes and checked reads on POSIX file descriptors.
#include "nn/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dl::io {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::vector<Chunk>& chunks, const char* op) {
  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  auto fail = [&](const std::string& what, int err) {
    throw std::runtime_error(std::string(op) + ": '" + path + "': " + what + ": " +
                             errno_text(err));
  };

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create temporary file '" + tmp + "'", errno);

  // From here on, any failure closes and removes the temp file before throwing.
  auto fail_cleanup = [&](const std::string& what, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, err);
  };

  for (const Chunk& c : chunks) {
    const char* p = static_cast<const char*>(c.data);
    std::size_t left = c.size;
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_cleanup("write to '" + tmp + "' failed", errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  if (::fsync(fd) != 0) fail_cleanup("fsync of '" + tmp + "' failed", errno);
  const int rc = ::close(fd);
  fd = -1;
  if (rc != 0) fail_cleanup("close of '" + tmp + "' failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail_cleanup("rename of '" + tmp + "' failed", errno);

  // Make the rename itself durable; best effort (some file systems refuse to fsync a dir).
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

InputFile::InputFile(const std::string& path, const char* op) : path_(path), op_(op) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    throw std::runtime_error(error(err == ENOENT ? std::string("file not found")
                                                 : "cannot open: " + errno_text(err)));
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(error("cannot stat: " + errno_text(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(error("not a regular file"));
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string InputFile::error(const std::string& reason) const {
  return std::string(op_) + ": '" + path_ + "': " + reason;
}

void InputFile::read_exact(void* dst, std::size_t n, const std::string& what) {
  char* p = static_cast<char*>(dst);
  std::size_t left = n;
  while (left > 0) {
    const ssize_t got = ::read(fd_, p, left);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(error("read error while reading " + what + ": " +
                                     errno_text(errno)));
    }
    if (got == 0)
      throw std::runtime_error(error("unexpected end of file while reading " + what + " (" +
                                     std::to_string(n - left) + " of " + std::to_string(n) +
                                     " bytes present)"));
    p += got;
    left -= static_cast<std::size_t>(got);
    pos_ += static_cast<std::uint64_t>(got);
  }
}

}  // namespace dl::io
