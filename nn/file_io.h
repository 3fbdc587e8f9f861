// file_io.h — the small POSIX file helpers shared by the safetensors and .npy readers/writers:
// atomic whole-file writes (temp file, fsync, rename) and checked sequential reads.
// Internal to dl_nn's I/O; models and users call save_safetensors / save_npy instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dl::io {

/// One piece of a file being written: @p size bytes at @p data.
struct Chunk {
  const void* data;
  std::size_t size;
};

/// Writes the concatenation of @p chunks to @p path atomically: the bytes go to
/// "<path>.tmp.<pid>", which is fsync'ed and then renamed over @p path, so a reader sees
/// either the old file or the complete new one, never a partial write. On any failure the
/// temp file is removed and std::runtime_error "<op>: '<path>': <reason>" is thrown.
void write_file_atomic(const std::string& path, const std::vector<Chunk>& chunks, const char* op);

/// A regular file opened for one sequential read. Every failure throws std::runtime_error
/// "<op>: '<path>': <reason>".
class InputFile {
 public:
  /// Opens @p path; throws if it is missing, unreadable or not a regular file.
  InputFile(const std::string& path, const char* op);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// File size in bytes, taken when the file was opened.
  std::uint64_t size() const { return size_; }
  /// Bytes read so far (the current position).
  std::uint64_t position() const { return pos_; }
  /// Reads exactly @p n bytes into @p dst; throws naming @p what if the file ends first.
  void read_exact(void* dst, std::size_t n, const std::string& what);
  /// Builds "<op>: '<path>': <reason>" — the prefix every error of this file carries.
  std::string error(const std::string& reason) const;

 private:
  int fd_ = -1;
  std::string path_;
  const char* op_;
  std::uint64_t size_ = 0;
  std::uint64_t pos_ = 0;
};

}  // namespace dl::io
