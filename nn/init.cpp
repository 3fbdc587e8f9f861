// init.cpp — MSRA / He and PyTorch-default initialisation (tutorial chapter 4).
// The derivation of the scales is in init.h; here they are only computed and drawn.
#include "nn/init.h"

#include <stdexcept>

namespace dl::nn::init {

namespace {

/// Product of the dims from 2 on: KH·KW for a conv weight, 1 for a linear weight.
int64_t receptive_field(const Shape& s, const char* op) {
  if (s.size() < 2)
    throw std::invalid_argument(std::string(op) + ": fan is undefined for a weight of shape " +
                                shape_str(s) + "; expected at least 2 dims [out, in, ...]");
  int64_t r = 1;
  for (size_t d = 2; d < s.size(); ++d) r *= s[d];
  return r;
}

}  // namespace

int64_t fan_in(const Shape& s) {
  const int64_t r = receptive_field(s, "fan_in");  // validates first: s[1] needs 2 dims
  return s[1] * r;
}

int64_t fan_out(const Shape& s) {
  const int64_t r = receptive_field(s, "fan_out");
  return s[0] * r;
}

int64_t fan(const Shape& s, FanMode mode) {
  return mode == FanMode::FanIn ? fan_in(s) : fan_out(s);
}

void kaiming_normal_(Tensor& t, Generator& gen, FanMode mode, double gain) {
  // Var[w] = gain² / fan; with the ReLU gain sqrt(2) this is 2 / fan (He et al., eq. 10).
  const double std = gain / std::sqrt(static_cast<double>(fan(t.shape(), mode)));
  normal_(t, gen, 0.0, std);
}

void kaiming_uniform_(Tensor& t, Generator& gen, FanMode mode, double a) {
  // U(-b, b) has variance b²/3; matching Var[w] = gain²/fan gives b = gain·sqrt(3/fan).
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan(t.shape(), mode)));
  uniform_(t, gen, -bound, bound);
}

// The fills draw a fresh tensor and copy it in, so views and tensors sharing storage with a
// parameter (its Variable, the module's state_dict) all see the new values.
void uniform_(Tensor& t, Generator& gen, double low, double high) {
  t.copy_(Tensor::uniform(t.shape(), low, high, gen, t.dtype()));
}

void normal_(Tensor& t, Generator& gen, double mean, double std) {
  t.copy_(Tensor::normal(t.shape(), mean, std, gen, t.dtype()));
}

void zeros_(Tensor& t) { t.zero_(); }
void ones_(Tensor& t) { t.fill_(1.0); }
void constant_(Tensor& t, double value) { t.fill_(value); }

}  // namespace dl::nn::init
