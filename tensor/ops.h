// ops.h — math on Tensors without gradients: elementwise with NumPy broadcasting,
// reductions, matmul through BLAS (tutorial chapter 1; chapter 5 for the GEMM).
// Results are fresh contiguous tensors. Binary ops need equal dtypes and throw
// std::invalid_argument naming the op and both shapes otherwise.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace dl {

// ---- elementwise, binary (broadcasting) --------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
/// relu(a + b) in one pass over memory: a residual block's add and the ReLU after it.
Tensor add_relu(const Tensor& a, const Tensor& b);
/// Elementwise larger / smaller value; a NaN on either side gives NaN (as in PyTorch).
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
/// a ** b elementwise.
Tensor pow(const Tensor& a, const Tensor& b);
/// a ** exponent.
Tensor pow(const Tensor& a, double exponent);

// Comparisons give a mask of the inputs' dtype holding 1 where true, 0 where false.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
/// mask != 0 ? a : b, all three broadcast together; a and b share a dtype.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);

// ---- elementwise, unary ------------------------------------------------------------------------
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor relu(const Tensor& a);
/// a * s + t elementwise (the workhorse of optimisers and normalisation).
Tensor affine(const Tensor& a, double s, double t);

// ---- scalar conveniences -----------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);

// ---- reductions --------------------------------------------------------------------------------
// Float sums accumulate in double (int64 in int64). Results are bit-identical for any number of
// threads: the summation order depends only on the shape.
/// Sum over @p dims (empty = all dims); keepdim leaves size-1 dims in place.
Tensor sum(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
/// Maximum over @p dims (empty = all); NaN propagates. Throws for an empty reduced dim.
Tensor max(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
/// Index (int64) of the first maximum along @p dim (a NaN counts as the maximum).
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);
/// Variance over @p dims; unbiased divides by n-1, biased by n (BatchNorm uses biased).
Tensor var(const Tensor& a, const std::vector<int64_t>& dims = {}, bool unbiased = true,
           bool keepdim = false);
/// Sums @p a down to @p shape, undoing a broadcast (a's shape must broadcast from @p shape).
/// Returns @p a itself (no copy) when the shapes already match.
Tensor sum_to(const Tensor& a, const Shape& shape);

// ---- linear algebra ----------------------------------------------------------------------------
/// Matrix product. 1-d·1-d, 2-d·2-d, and batched [..., n, k]·[..., k, m] with broadcast batch
/// dims. Transposed views go to BLAS as transposes (no copy).
/// @throws std::invalid_argument "matmul: shapes [a] and [b] do not match (k=3 vs 4)".
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- joining and padding -----------------------------------------------------------------------
/// Concatenates along @p dim; all other dims must match.
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);
/// Pads each dim with @p value: pads[2*i], pads[2*i+1] = before/after for dim i (pads may cover
/// fewer dims than the tensor has; they apply to the leading dims — unlike PyTorch's F.pad,
/// which starts from the last dim).
Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value = 0.0);

/// True when shapes match and |a-b| <= atol + rtol*|b| elementwise (tests). Equal infinities
/// are close; a nan never is.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
/// Largest |a-b| / max(|b|, floor) over all elements (kernel tests report this). Pairs that are
/// equal or both nan count 0; a nan on one side only gives infinity.
double max_rel_error(const Tensor& a, const Tensor& b, double floor = 1e-3);

}  // namespace dl
