// strided_loop.h — the one loop that walks any strided view (internal to dl_tensor).
// Every elementwise op, copy and in-place op runs through strided_for_each: it merges dims that
// are contiguous in all operands (so a contiguous tensor is a single flat loop), then walks the
// index space and hands each innermost row (or piece of a row) to a callback. Tutorial chapter 1.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "tensor/shape.h"

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::detail {

/// Below this many elements an op runs on one thread: the fork/join would cost more.
constexpr int64_t kParallelGrain = 32768;

/// Merges adjacent dims that are laid out contiguously in every operand, and drops size-1
/// dims. Leaves at least one dim. Merging keeps the row-major visiting order, so element j of
/// the merged space is element j of the original one.
template <size_t K>
void coalesce(Shape& shape, std::array<Shape, K>& strides) {
  Shape s2;
  std::array<Shape, K> st2;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    // Dim d continues the previous (outer) one when outer stride == inner stride * inner size.
    bool merge = !s2.empty();
    for (size_t k = 0; k < K && merge; ++k) merge = st2[k].back() == strides[k][d] * shape[d];
    if (merge) {
      s2.back() *= shape[d];
      for (size_t k = 0; k < K; ++k) st2[k].back() = strides[k][d];
    } else {
      s2.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) st2[k].push_back(strides[k][d]);
    }
  }
  if (s2.empty()) {
    s2.push_back(1);
    for (size_t k = 0; k < K; ++k) st2[k].push_back(0);
  }
  shape = std::move(s2);
  strides = std::move(st2);
}

/// Walks the flat (row-major) element range [e0, e1) of a coalesced index space, calling
/// row(offsets, n, inner_strides) once per run of consecutive innermost elements. offsets[k]
/// is operand k's element offset at the run start.
template <size_t K, class Row>
void strided_range(const Shape& shape, const std::array<Shape, K>& strides, int64_t e0,
                   int64_t e1, Row& row) {
  if (e0 >= e1) return;
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t inner = shape[nd - 1];
  std::array<int64_t, K> inner_st;
  for (size_t k = 0; k < K; ++k) inner_st[k] = strides[k][nd - 1];
  // Decompose e0 into a multi-index (the odometer's starting position).
  std::array<int64_t, K> off{};
  Shape idx(nd, 0);
  int64_t rem = e0;
  for (int64_t d = nd - 1; d >= 0; --d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
    for (size_t k = 0; k < K; ++k) off[k] += idx[d] * strides[k][d];
  }
  int64_t e = e0;
  while (true) {
    const int64_t n = std::min(inner - idx[nd - 1], e1 - e);
    row(off, n, inner_st);
    e += n;
    if (e >= e1) return;
    // Back to the start of the row, then step the outer dims like an odometer.
    for (size_t k = 0; k < K; ++k) off[k] -= idx[nd - 1] * inner_st[k];
    idx[nd - 1] = 0;
    for (int64_t d = nd - 2; d >= 0; --d) {
      ++idx[d];
      for (size_t k = 0; k < K; ++k) off[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= idx[d] * strides[k][d];
      idx[d] = 0;
    }
  }
}

/// Calls row(offsets, n, inner_strides) for every run of innermost elements of @p shape, where
/// offsets[k] is operand k's element offset at the run start. A large index space is split
/// into one contiguous range of elements per OpenMP thread (a range may start or end inside a
/// row, so even a single flat row is shared). Each element is visited exactly once, so
/// elementwise results do not depend on the thread count.
template <size_t K, class Row>
void strided_for_each(Shape shape, std::array<Shape, K> strides, Row&& row) {
  const int64_t total = shape_numel(shape);
  if (total == 0) return;
  coalesce(shape, strides);
#ifdef DL_WITH_OPENMP
  if (total >= kParallelGrain && !omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      // Split points are rounded to 64 elements so threads rarely share a cache line.
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      auto split = [&](int64_t i) { return i == nt ? total : (total * i / nt) / 64 * 64; };
      strided_range<K>(shape, strides, split(t), split(t + 1), row);
    }
    return;
  }
#endif
  strided_range<K>(shape, strides, 0, total, row);
}

}  // namespace dl::detail
