// fs_util.h — small file helpers shared by the training layer (metrics, plots, checkpoints).
#pragma once

#include <string>

namespace dl::train {

/// Writes @p bytes to @p path atomically: a temporary file is created in the same directory,
/// written, fsync'ed, and renamed over @p path (then the directory is fsync'ed). Readers see
/// either the old content or the new, never a partial file. On failure the temporary file is
/// removed, the old file is left untouched, and std::runtime_error names @p path and the reason.
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Reads a whole file. Throws std::runtime_error naming @p path if it cannot be opened or read.
std::string read_file(const std::string& path);

/// True if @p path exists (any kind of file).
bool file_exists(const std::string& path);

}  // namespace dl::train
