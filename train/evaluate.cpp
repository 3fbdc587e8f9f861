// evaluate.cpp — one pass over a test set in eval mode (tutorial chapter 10).
#include "train/evaluate.h"

#include <cmath>
#include <iomanip>
#include <sstream>

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
  for (size_t c = 0; c < acc.size(); ++c)
    os << "  " << std::left << std::setw(12) << name(c) << std::right << std::setw(7)
       << 100.0 * acc[c] << "%\n";
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

}  // namespace dl::train
