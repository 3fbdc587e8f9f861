// conv_taps.h — which output positions a kernel tap reaches without hitting padding
// (internal to the conv kernels; tutorial chapter 5). Shared by the direct and im2col paths
// so their inner loops need no per-element bounds checks.
#pragma once

#include <cstdint>

namespace dl::kernels {

/// For one kernel tap at input offset @p off (= k·dilation − pad), the output columns
/// [lo, hi) whose input coordinate o·stride + off lies inside [0, size); the others read
/// zero padding. @p out is the output size.
inline void tap_range(int64_t off, int64_t stride, int64_t size, int64_t out, int64_t& lo,
                      int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = (size - 1 - off) < 0 ? 0 : (size - 1 - off) / stride + 1;
  if (lo > out) lo = out;
  if (hi > out) hi = out;
  if (hi < lo) hi = lo;
}

}  // namespace dl::kernels
