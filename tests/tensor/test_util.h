// test_util.h — small helpers shared by the tensor tests: compare a tensor with expected values,
// catch an exception's message, pin the OpenMP thread count, and walk every index of a shape.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tensor/ops.h"
#include "tensor/tensor.h"

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::test {

/// Shape and every element (row-major) of @p t equal the expected ones exactly.
inline void expect_tensor_eq(const Tensor& t, const Shape& shape, const std::vector<double>& values) {
  EXPECT_EQ(t.shape(), shape);
  EXPECT_EQ(t.to_vector(), values);
}

/// Shape matches and every element is within @p tol of the expected one.
inline void expect_tensor_near(const Tensor& t, const Shape& shape, const std::vector<double>& values,
                               double tol) {
  ASSERT_EQ(t.shape(), shape);
  const std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), values.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], values[i], tol) << "element " << i;
}

/// The message of the exception of type E that @p f throws ("" plus a test failure if none).
template <class E = std::invalid_argument, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

/// Sets the OpenMP thread count for one scope (no-op without OpenMP).
class ThreadCount {
 public:
  explicit ThreadCount(int n) {
#ifdef DL_WITH_OPENMP
    saved_ = omp_get_max_threads();
    omp_set_num_threads(n);
#else
    (void)n;
#endif
  }
  ~ThreadCount() {
#ifdef DL_WITH_OPENMP
    omp_set_num_threads(saved_);
#endif
  }

 private:
  int saved_ = 1;
};

/// Calls f(index) for every multi-index of @p shape in row-major order (once for shape []).
inline void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& f) {
  if (shape_numel(shape) == 0) return;
  Shape idx(shape.size(), 0);
  while (true) {
    f(idx);
    int64_t d = int64_t(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/// Every subset of {0, ..., n-1}, as sorted dim lists (the empty subset first).
inline std::vector<std::vector<int64_t>> all_dim_subsets(int64_t n) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t mask = 0; mask < (int64_t(1) << n); ++mask) {
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < n; ++d)
      if (mask & (int64_t(1) << d)) dims.push_back(d);
    out.push_back(dims);
  }
  return out;
}

/// A tensor of @p shape holding distinct, non-round values (i * 0.37 - 2), in float64.
inline Tensor distinct_values(const Shape& shape, DType dtype = DType::Float64) {
  std::vector<double> v(size_t(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i) * 0.37 - 2.0;
  return Tensor::from_vector(v, shape).to(dtype);
}

}  // namespace dl::test
