// evaluate.h — test-set accuracy, per-class accuracy and the confusion matrix
// (tutorial chapter 10; `resnet eval`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "train/augment.h"
#include "train/dataset.h"

namespace dl::train {

/// Results of evaluate().
struct EvalResult {
  int64_t count = 0;
  double loss = 0;                              ///< mean cross-entropy
  double error = 0;                             ///< top-1 error in [0, 1]
  std::vector<std::vector<int64_t>> confusion;  ///< [true class][predicted class]
  /// Fraction correct for each class (NaN for a class with no samples).
  std::vector<double> per_class_accuracy() const;
  /// Text table: per-class accuracy and the confusion matrix, with class names.
  std::string format(const std::vector<std::string>& class_names) const;
};

/// Runs @p model in eval mode without recording gradients over the whole of @p data
/// (normalised with @p norm, batches of @p batch_size); restores the model's mode afterwards.
/// The confusion matrix has max(10, number of class names) rows; a label or prediction
/// outside it is counted in `count` and `error` but not in the matrix.
EvalResult evaluate(nn::Module& model, const ImageDataset& data, const Normalizer& norm,
                    int64_t batch_size = 256);

/// Metadata entries that record @p norm ("norm.mean", "norm.std" and, in per-pixel mode,
/// "norm.pixel_mean": comma-separated floats, printed so they read back exactly). The trainer
/// stores them with the weights, so `resnet eval` preprocesses test images as training did.
std::map<std::string, std::string> normalizer_metadata(const Normalizer& norm);

/// The Normalizer recorded by normalizer_metadata() in @p metadata, or Normalizer::cifar10()
/// when the entries are absent (weights trained elsewhere).
/// @throws std::runtime_error if an entry is not a list of numbers.
Normalizer normalizer_from_metadata(const std::map<std::string, std::string>& metadata);

}  // namespace dl::train
