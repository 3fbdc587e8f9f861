// linalg.cpp — matmul through BLAS GEMM (tutorial chapter 5).
// A strided 2-d view is handed to BLAS without copying when one of its strides is 1: stride
// (ld, 1) is a row-major matrix, stride (1, ld) is the transpose of one. Only views with
// neither layout (e.g. every other column) are copied first.
#include <stdexcept>

#include "tensor/kernels/gemm.h"
#include "tensor/ops.h"

namespace dl {

namespace {

/// How BLAS sees one [rows, cols] operand: pointer base, transpose flag and leading dimension.
struct BlasView {
  Tensor t;  // keeps a copy alive when one was needed
  bool trans = false;
  int64_t ld = 0;
  Shape batch_strides;
};

/// Describes the last two dims of @p t for BLAS, then broadcasts its batch dims to
/// @p full_shape (stride 0, no copy). The matrix part is copied only when neither of its
/// strides is 1; that copy happens before the broadcast, so a broadcast operand is never
/// materialised once per batch item.
BlasView blas_view(const Tensor& t, const Shape& full_shape) {
  const int64_t r = t.size(-2), c = t.size(-1);
  const int64_t sr = t.stride(-2), sc = t.stride(-1);
  BlasView v{t, false, 0, {}};
  if ((sc == 1 || c == 1) && sr >= std::max<int64_t>(c, 1)) {
    v.ld = std::max<int64_t>(sr, 1);  // row-major with leading dimension sr
  } else if ((sr == 1 || r == 1) && sc >= std::max<int64_t>(r, 1)) {
    v.trans = true;  // the transpose of a row-major [c, r] matrix with leading dimension sc
    v.ld = std::max<int64_t>(sc, 1);
  } else {
    v.t = t.contiguous();
    v.ld = std::max<int64_t>(c, 1);
  }
  v.t = v.t.expand(full_shape);
  v.batch_strides.assign(v.t.strides().begin(), v.t.strides().end() - 2);
  return v;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  if (!a_in.defined() || !b_in.defined()) throw std::invalid_argument("matmul: tensor is undefined");
  if (a_in.dtype() != b_in.dtype())
    throw std::invalid_argument(std::string("matmul: dtypes differ (") + dtype_name(a_in.dtype()) +
                                " vs " + dtype_name(b_in.dtype()) + ")");
  if (a_in.dim() == 0 || b_in.dim() == 0)
    throw std::invalid_argument("matmul: shapes " + shape_str(a_in.shape()) + " and " +
                                shape_str(b_in.shape()) + ": both need at least 1 dim");
  // 1-d operands become a row (left) or a column (right) and the extra dim is dropped after.
  const Tensor a = a_in.dim() == 1 ? a_in.unsqueeze(0) : a_in;
  const Tensor b = b_in.dim() == 1 ? b_in.unsqueeze(1) : b_in;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  if (b.size(-2) != K)
    throw std::invalid_argument("matmul: shapes " + shape_str(a_in.shape()) + " and " +
                                shape_str(b_in.shape()) + " do not match (k=" +
                                std::to_string(K) + " vs " + std::to_string(b.size(-2)) + ")");
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  const Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(a_batch, b_batch, "matmul");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("matmul: batch dims of " + shape_str(a_in.shape()) + " and " +
                                shape_str(b_in.shape()) + " are not broadcastable");
  }

  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {K, N});
  const BlasView va = blas_view(a, a_full);
  const BlasView vb = blas_view(b, b_full);

  Shape out_shape = batch;
  out_shape.insert(out_shape.end(), {M, N});
  Tensor out = Tensor::empty(out_shape, a.dtype());
  const int64_t n_batch = shape_numel(batch);

  dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = va.t.template data<T>();
    const T* pb = vb.t.template data<T>();
    T* pc = out.data<T>();
    for (int64_t i = 0; i < n_batch; ++i) {
      // Offsets of batch item i in each operand (stride 0 where broadcast).
      int64_t oa = 0, ob = 0, rem = i;
      for (int64_t d = int64_t(batch.size()) - 1; d >= 0; --d) {
        const int64_t idx = rem % batch[d];
        rem /= batch[d];
        oa += idx * va.batch_strides[d];
        ob += idx * vb.batch_strides[d];
      }
      kernels::gemm(va.trans, vb.trans, M, N, K, T(1), pa + oa, va.ld, pb + ob, vb.ld, T(0),
                    pc + i * M * N, std::max<int64_t>(N, 1));
    }
  });
  if (a_in.dim() == 1) out = out.squeeze(-2);
  if (b_in.dim() == 1) out = out.squeeze(-1);
  return out;
}

}  // namespace dl
