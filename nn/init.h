// init.h — weight initialisation: MSRA / He (kaiming), PyTorch's default layer init, and the
// plain fills (tutorial chapter 4). Reference: He, Zhang, Ren, Sun, "Delving Deep into
// Rectifiers" (ICCV 2015, arXiv:1502.01852), §2.2, equations (10) and (14).
//
// Why MSRA exists. A layer y = W x sums fan terms, so with zero-mean independent weights
//     Var[y] = fan · Var[w] · E[x²].
// If x is the output of a ReLU whose input was zero-mean and symmetric, half of it is cut to
// zero and E[x²] = Var[y_prev] / 2. The signal keeps its scale layer after layer only when
//     fan · Var[w] / 2 = 1,  i.e.  Var[w] = 2 / fan,  std = sqrt(2) / sqrt(fan).
// Any other choice multiplies the variance by the same factor at every layer: with a naive
// N(0, 0.01²) init and fan = 144 (3x3 conv, 16 channels) that factor is 0.0072, and after 50
// layers the activations are 10^-107 times smaller — gradients vanish with them. Using fan_in
// preserves the forward signal; fan_out preserves the backward one (eq. 14). torchvision's
// ResNet uses fan_out; for square layers (C = OC) the two agree.
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/tensor.h"

namespace dl::nn::init {

/// Which fan sets the scale: fan_in keeps forward activations at unit scale, fan_out keeps
/// backward gradients at unit scale.
enum class FanMode { FanIn, FanOut };

/// Inputs feeding one output: C·KH·KW for a conv weight [OC,C,KH,KW], `in` for a linear
/// weight [out,in] (dims from 2 on are the receptive field).
/// @throws std::invalid_argument for shapes with fewer than 2 dims (fan is undefined).
int64_t fan_in(const Shape& weight_shape);
/// Outputs fed by one input: OC·KH·KW for [OC,C,KH,KW], `out` for [out,in].
/// @throws std::invalid_argument for shapes with fewer than 2 dims.
int64_t fan_out(const Shape& weight_shape);
/// fan_in or fan_out, as @p mode says.
int64_t fan(const Shape& weight_shape, FanMode mode);

/// Fills @p t in place with N(0, std²), std = gain / sqrt(fan) (MSRA / He normal init).
/// The default gain sqrt(2) is the ReLU gain derived in the file comment; mode FanOut is what
/// torchvision's ResNet uses. Values are drawn in row-major order from @p gen.
/// @throws std::invalid_argument if @p t has fewer than 2 dims.
void kaiming_normal_(Tensor& t, Generator& gen, FanMode mode = FanMode::FanOut,
                     double gain = std::sqrt(2.0));

/// Fills @p t in place with U(-bound, bound), bound = gain·sqrt(3 / fan), where
/// gain = sqrt(2 / (1 + a²)) is the leaky-ReLU gain of negative slope @p a (a uniform
/// distribution on ±b has variance b²/3, so this has the same variance as kaiming_normal_).
/// PyTorch's default Conv2d/Linear weight init is this with FanIn and a = sqrt(5), giving
/// bound = 1/sqrt(fan_in).
/// @throws std::invalid_argument if @p t has fewer than 2 dims.
void kaiming_uniform_(Tensor& t, Generator& gen, FanMode mode = FanMode::FanIn,
                      double a = std::sqrt(5.0));

/// Fills @p t in place with U(low, high) drawn from @p gen.
/// @throws std::invalid_argument if low > high.
void uniform_(Tensor& t, Generator& gen, double low, double high);
/// Fills @p t in place with N(mean, std²) drawn from @p gen.
void normal_(Tensor& t, Generator& gen, double mean, double std);
/// Fills @p t with zeros (biases, BN bias, running_mean).
void zeros_(Tensor& t);
/// Fills @p t with ones (BN weight, running_var).
void ones_(Tensor& t);
/// Fills @p t with @p value.
void constant_(Tensor& t, double value);

}  // namespace dl::nn::init
