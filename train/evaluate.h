// evaluate.h — test-set accuracy, per-class accuracy and the confusion matrix
// (tutorial chapter 10; `resnet eval`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/module.h"
#include "train/dataset.h"
#include "train/augment.h"

namespace dl::train {

/// Results of evaluate().
struct EvalResult {
  int64_t count = 0;
  double loss = 0;   ///< mean cross-entropy
  double error = 0;  ///< top-1 error in [0, 1]
  std::vector<std::vector<int64_t>> confusion;  ///< [true class][predicted class]
  /// Fraction correct for each class (NaN for a class with no samples).
  std::vector<double> per_class_accuracy() const;
  /// Text table: per-class accuracy and the confusion matrix, with class names.
  std::string format(const std::vector<std::string>& class_names) const;
};

/// Runs @p model in eval mode without recording gradients over the whole of @p data
/// (normalised with @p norm, batches of @p batch_size); restores the model's mode afterwards.
EvalResult evaluate(nn::Module& model, const ImageDataset& data, const Normalizer& norm,
                    int64_t batch_size = 256);

}  // namespace dl::train
