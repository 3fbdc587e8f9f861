// npy.h — reading and writing single tensors in NumPy's .npy format
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), to exchange
// arrays with Python: np.load("x.npy") reads what save_npy writes, and vice versa.
//
// File layout:
//   6 bytes   magic "\x93NUMPY"
//   2 bytes   format version, major then minor (1.0; 2.0 and 3.0 have a longer length field)
//   2 bytes   header length H, little-endian (4 bytes in versions 2.0 and 3.0)
//   H bytes   a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False,
//             'shape': (2, 3), }, padded with spaces and ended by '\n' so the data starts
//             on a 64-byte boundary
//   rest      the elements, C (row-major) order unless fortran_order is True.
//
// Supported dtypes: '<f4' (float32), '<f8' (float64), '<i8' (int64); the byte-order mark may
// also be '=' (native, which this little-endian-only code takes as '<'). Big-endian ('>')
// data and other dtypes are rejected. Fortran-order files are loaded too: the data is read
// as the reversed shape and transposed into an ordinary row-major tensor.
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace dl {

/// Writes @p t to @p path as a version 1.0 .npy file (descr '<f4', '<f8' or '<i8',
/// fortran_order False, C order, header padded so the data starts at a multiple of 64 bytes).
/// Views need not be contiguous. Atomic: written to "<path>.tmp.<pid>", fsync'ed, renamed.
/// Throws std::runtime_error "save_npy: '<path>': <reason>" for an undefined tensor or I/O
/// failure.
void save_npy(const std::string& path, const Tensor& t);

/// Reads a .npy file (format versions 1.0, 2.0 and 3.0) into a new contiguous tensor.
/// Throws std::runtime_error "load_npy: '<path>': <reason>" for a missing file, bad magic,
/// an unknown version, a truncated or malformed header, an unsupported or big-endian dtype,
/// a negative dimension, or data shorter or longer than the shape needs.
Tensor load_npy(const std::string& path);

}  // namespace dl
