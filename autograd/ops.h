// ops.h — every differentiable op (tutorial chapters 2, 3 and 5). Each takes and returns
// Variables, computes its value with the tensor layer, and records a node whose backward
// function sits right beside the forward code in autograd/ops/<family>.cpp.
// Shapes follow PyTorch. Errors are those of the tensor layer (std::invalid_argument with
// the op name and the shapes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "tensor/conv2d.h"

namespace dl::ag {

// ---- elementwise (ops/elementwise.cpp); binary ops broadcast, backward sums over broadcast dims
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);
Variable neg(const Variable& a);
Variable exp(const Variable& a);
Variable log(const Variable& a);
Variable sqrt(const Variable& a);
Variable abs(const Variable& a);
/// a ** exponent (constant exponent).
Variable pow(const Variable& a, double exponent);
Variable relu(const Variable& a);
/// relu(a + b) as one op (a residual block's add and its ReLU): one pass over memory less.
Variable add_relu(const Variable& a, const Variable& b);
/// a + s, a * s with a constant scalar.
Variable add_scalar(const Variable& a, double s);
Variable mul_scalar(const Variable& a, double s);

Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator-(const Variable& a);

// ---- reductions (ops/reduce.cpp) ----------------------------------------------------------------
Variable sum(const Variable& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable mean(const Variable& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
/// Max over dims; the gradient flows to the first maximum (ties: keep inputs distinct).
Variable max(const Variable& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable var(const Variable& a, const std::vector<int64_t>& dims = {}, bool unbiased = true,
             bool keepdim = false);

// ---- views (ops/view.cpp); each backward is the adjoint view -----------------------------------
Variable reshape(const Variable& a, const Shape& shape);
Variable permute(const Variable& a, const std::vector<int64_t>& dims);
Variable transpose(const Variable& a, int64_t d0, int64_t d1);
Variable slice(const Variable& a, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Variable expand(const Variable& a, const Shape& shape);
Variable squeeze(const Variable& a, int64_t dim);
Variable unsqueeze(const Variable& a, int64_t dim);
Variable flatten(const Variable& a, int64_t start = 0, int64_t end = -1);

// ---- linear algebra and joining (ops/linalg.cpp) ---------------------------------------------------
Variable matmul(const Variable& a, const Variable& b);
/// x [..., in] · weight [out, in]ᵀ + bias [out] -> [..., out] (bias may be undefined).
/// One node (LinearBackward), not transpose + matmul + add.
/// @throws std::invalid_argument naming the shapes when in or out do not match.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);
Variable concat(const std::vector<Variable>& xs, int64_t dim);
/// Constant zero padding; pads as in dl::pad (before/after pairs for the leading dims).
Variable pad(const Variable& a, const std::vector<int64_t>& pads);

// ---- convolution (ops/conv.cpp) ------------------------------------------------------------------
/// Stride, padding, dilation (groups = 1) and algorithm of conv2d; the tensor layer's struct,
/// e.g. Conv2dArgs::square(/*stride=*/2, /*pad=*/1).
using Conv2dArgs = dl::Conv2dArgs;
/// x [N,C,H,W] * w [OC,C,KH,KW] (+ b [OC], may be undefined) -> [N,OC,OH,OW].
/// @throws std::invalid_argument naming both shapes when channels differ.
Variable conv2d(const Variable& x, const Variable& w, const Variable& b, const Conv2dArgs& args);

// ---- pooling (ops/pool.cpp) -------------------------------------------------------------------------
/// Max over kernel windows of x [N,C,H,W]; padding counts as -inf. The gradient goes to the
/// first maximum of each window (keep inputs distinct in gradient checks).
/// @throws std::invalid_argument unless kernel, stride >= 1 and 0 <= pad <= kernel/2.
Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t pad = 0);
/// Average over windows; padded zeros are counted (PyTorch's count_include_pad=true).
Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t pad = 0);
/// Adaptive average pooling to [N,C,out_h,out_w] (PyTorch's window rule).
Variable adaptive_avg_pool2d(const Variable& x, int64_t out_h, int64_t out_w);
/// Mean over H and W: [N,C,H,W] -> [N,C].
Variable global_avg_pool2d(const Variable& x);

// ---- normalisation and regularisation (ops/norm.cpp) ---------------------------------------------
/// Batch normalisation over (N,H,W) per channel of x [N,C,H,W] (or [N,C]).
/// training: uses batch statistics and updates running_mean/var in place
/// (running = (1-momentum)*running + momentum*batch, var unbiased). eval: uses running stats.
/// weight/bias [C] may be undefined (no affine); undefined running stats are not tracked in
/// training (eval needs them). The node saves x, the mean and inv_std, and the weight.
/// @throws std::invalid_argument for mismatched shapes or dtypes, or training with one value
///         per channel.
Variable batch_norm(const Variable& x, const Variable& weight, const Variable& bias,
                    Tensor& running_mean, Tensor& running_var, bool training,
                    double momentum = 0.1, double eps = 1e-5);
/// relu(batch_norm(...)) as one op: one pass over memory less forward and backward, and no
/// pre-ReLU tensor kept. Equal to the two ops, values and gradients (the gradient is zero
/// where the pre-ReLU value is not > 0, as relu's).
Variable batch_norm_relu(const Variable& x, const Variable& weight, const Variable& bias,
                         Tensor& running_mean, Tensor& running_var, bool training,
                         double momentum = 0.1, double eps = 1e-5);
/// Zeroes each element with probability p and scales the rest by 1/(1-p) in training. When
/// !training or p == 0 it returns @p x itself (no node, nothing drawn from @p gen).
/// The mask is drawn from @p gen, so a fixed seed gives a fixed mask.
/// @throws std::invalid_argument if p is outside [0, 1].
Variable dropout(const Variable& x, double p, bool training, Generator& gen);

// ---- losses (ops/loss.cpp) -------------------------------------------------------------------------
/// log(softmax(x)) along @p dim, computed stably (max subtracted).
Variable log_softmax(const Variable& x, int64_t dim);
/// Mean cross-entropy of logits [N, K] against int64 labels [N]; label_smoothing ε mixes the
/// one-hot target with the uniform distribution: (1-ε)·onehot + ε/K.
/// Returns a 0-d Variable.
/// @throws std::invalid_argument for a label outside [0, K) (naming it and its position),
///         labels that are not int64 [N], or ε outside [0, 1].
Variable cross_entropy(const Variable& logits, const Tensor& labels, double label_smoothing = 0.0);

// ---- ResNet (ops/shortcut.cpp) ----------------------------------------------------------------------
/// The parameter-free option-A shortcut: x[:, :, ::stride, ::stride], then zero channels up to
/// @p out_channels. symmetric = half the new channels before and half after (the layout of the
/// common CIFAR reference code); otherwise all after. symmetric puts (out - C)/2 zero
/// channels first and the rest last. Output [N, out_channels, ceil(H/s), ceil(W/s)].
/// @throws std::invalid_argument if x is not 4-d, stride < 1 or out_channels < C.
Variable shortcut_a(const Variable& x, int64_t out_channels, int64_t stride, bool symmetric = true);

/// Names of every differentiable op above; tests check each has a gradcheck case.
const std::vector<std::string>& differentiable_ops();

}  // namespace dl::ag
