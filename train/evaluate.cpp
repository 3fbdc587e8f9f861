// evaluate.cpp — one pass over a test set in eval mode, and the normaliser recorded with
// trained weights so that `resnet eval` preprocesses as training did (tutorial chapter 10).
#include "train/evaluate.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/ops.h"
#include "train/loader.h"

namespace dl::train {

std::vector<double> EvalResult::per_class_accuracy() const {
  std::vector<double> acc;
  for (size_t c = 0; c < confusion.size(); ++c) {
    int64_t total = 0;
    for (int64_t n : confusion[c]) total += n;
    acc.push_back(total ? double(confusion[c][c]) / double(total) : NAN);
  }
  return acc;
}

std::string EvalResult::format(const std::vector<std::string>& names) const {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  os << "test images " << count << "  loss " << std::setprecision(4) << loss << "  accuracy "
     << std::setprecision(2) << 100.0 * (1.0 - error) << "%  error " << 100.0 * error << "%\n\n";
  const std::vector<double> acc = per_class_accuracy();
  auto name = [&names](size_t c) { return c < names.size() ? names[c] : std::to_string(c); };
  os << "per-class accuracy\n";
  for (size_t c = 0; c < acc.size(); ++c) {
    os << "  " << std::left << std::setw(12) << name(c) << std::right;
    if (std::isnan(acc[c]))
      os << "  (no images)\n";
    else
      os << std::setw(7) << 100.0 * acc[c] << "%\n";
  }
  os << "\nconfusion matrix (rows: true class, columns: predicted)\n" << std::setw(12) << "";
  for (size_t c = 0; c < confusion.size(); ++c) os << std::setw(6) << name(c).substr(0, 5);
  os << '\n';
  for (size_t r = 0; r < confusion.size(); ++r) {
    os << std::left << std::setw(12) << name(r) << std::right;
    for (int64_t n : confusion[r]) os << std::setw(6) << n;
    os << '\n';
  }
  return os.str();
}

EvalResult evaluate(nn::Module& model, const ImageDataset& data, const Normalizer& norm,
                    int64_t batch_size) {
  const bool was_training = model.is_training();
  model.eval();
  ag::NoGradGuard no_grad;
  LoaderConfig cfg;
  cfg.batch_size = batch_size;
  cfg.shuffle = false;
  cfg.transform = TransformConfig::eval(norm);
  BatchLoader loader(data, cfg);
  loader.start_epoch(0);

  EvalResult r;
  const int64_t classes = std::max<int64_t>(10, int64_t(data.class_names.size()));
  r.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  double loss_sum = 0;
  Batch b;
  while (loader.next(b)) {
    const Tensor x = Tensor::from_vector(b.images, {b.size, b.channels, b.height, b.width});
    const Tensor labels = Tensor::from_vector(b.labels, {b.size});
    const ag::Variable logits = model(ag::Variable(x));
    loss_sum += ag::cross_entropy(logits, labels).item() * double(b.size);
    const Tensor pred = argmax(logits.data(), 1);
    const int64_t* p = pred.data<int64_t>();
    for (int64_t i = 0; i < b.size; ++i)
      if (b.labels[i] < classes && p[i] < classes) ++r.confusion[b.labels[i]][p[i]];
    r.count += b.size;
  }
  int64_t correct = 0;
  for (int64_t c = 0; c < classes; ++c) correct += r.confusion[c][c];
  r.loss = r.count ? loss_sum / double(r.count) : 0.0;
  r.error = r.count ? 1.0 - double(correct) / double(r.count) : 0.0;
  model.train(was_training);
  return r;
}

namespace {
/// "v0,v1,...": %.9g is enough digits for any float to read back bit for bit.
std::string join_floats(const std::vector<float>& values) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", double(values[i]));
    out += buf;
  }
  return out;
}

std::vector<float> split_floats(const std::string& key, const std::string& text) {
  std::vector<float> values;
  const char* p = text.c_str();
  while (*p) {
    char* end = nullptr;
    errno = 0;
    values.push_back(std::strtof(p, &end));
    if (end == p || errno == ERANGE || (*end != ',' && *end != '\0'))
      throw std::runtime_error("normalizer metadata: '" + key +
                               "' is not a comma-separated list of numbers");
    p = *end == ',' ? end + 1 : end;
  }
  return values;
}
}  // namespace

std::map<std::string, std::string> normalizer_metadata(const Normalizer& norm) {
  std::map<std::string, std::string> meta = {{"norm.mean", join_floats(norm.mean)},
                                             {"norm.std", join_floats(norm.std)}};
  if (norm.per_pixel()) meta["norm.pixel_mean"] = join_floats(norm.pixel_mean);
  return meta;
}

Normalizer normalizer_from_metadata(const std::map<std::string, std::string>& metadata) {
  auto mean = metadata.find("norm.mean"), std = metadata.find("norm.std");
  if (mean == metadata.end() || std == metadata.end()) return Normalizer::cifar10();
  Normalizer norm;
  norm.mean = split_floats(mean->first, mean->second);
  norm.std = split_floats(std->first, std->second);
  auto pixels = metadata.find("norm.pixel_mean");
  if (pixels != metadata.end()) norm.pixel_mean = split_floats(pixels->first, pixels->second);
  return norm;
}

}  // namespace dl::train
