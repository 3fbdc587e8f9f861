// flatten.h — the Flatten layer (tutorial chapter 4): merges dims start_dim..end_dim, e.g.
// [N, C, 1, 1] -> [N, C] between a ResNet's global pool and its classifier.
#pragma once

#include <cstdint>
#include <string>

#include "nn/module.h"

namespace dl::nn {

/// As torch.nn.Flatten: dims start_dim..end_dim (negative counts from the end) merged into
/// one; the default keeps the batch dim. A view of the input when the strides allow it.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  /// @throws std::out_of_range if a dim is outside the input's dims (from the op).
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Flatten"; }
  int64_t start_dim() const { return start_dim_; }
  int64_t end_dim() const { return end_dim_; }

 private:
  int64_t start_dim_, end_dim_;
};

}  // namespace dl::nn
