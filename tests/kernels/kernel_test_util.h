// kernel_test_util.h — shared helpers for the kernel tests: deterministic random data and the
// error metrics every fast kernel is judged by against a float64 reference.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/kernels/cpu.h"

namespace dl::kernels::testing {

/// Deterministic uniform values in [lo, hi) from a 64-bit LCG (same numbers on every platform).
template <class T>
std::vector<T> random_vec(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::vector<T> v(n);
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& e : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = double(s >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
    e = T(lo + (hi - lo) * u);
  }
  return v;
}

template <class A, class B>
std::vector<B> convert(const std::vector<A>& a) {
  return std::vector<B>(a.begin(), a.end());
}

/// ||got - ref||₂ / ||ref||₂ (0 when both are zero).
template <class T>
double rel_l2(const std::vector<T>& got, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = double(got[i]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

/// max |got - ref| / max |ref|: the worst element error relative to the output's scale.
template <class T>
double max_rel(const std::vector<T>& got, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num = std::fmax(num, std::fabs(double(got[i]) - ref[i]));
    den = std::fmax(den, std::fabs(ref[i]));
  }
  return den == 0 ? num : num / den;
}

/// The SIMD paths of the kernels: portable C++, AVX2, and AVX2 with AVX-512 GEMMs.
enum class Simd { Portable, Avx2, Avx512 };

inline std::string simd_name(Simd s) {
  return s == Simd::Portable ? "ref" : s == Simd::Avx2 ? "avx2" : "avx512";
}

/// Selects one SIMD path for its lifetime and restores the previous choice afterwards.
class SimdScope {
 public:
  explicit SimdScope(Simd s) : avx2_(use_avx2()), avx512_(use_avx512()) {
    set_use_avx2(s != Simd::Portable);
    set_use_avx512(s == Simd::Avx512);
  }
  ~SimdScope() {
    set_use_avx2(avx2_);
    set_use_avx512(avx512_);
  }
  SimdScope(const SimdScope&) = delete;
  SimdScope& operator=(const SimdScope&) = delete;

 private:
  bool avx2_, avx512_;
};

/// The paths this CPU and build can run (the portable one always).
inline std::vector<Simd> available_simd() {
  std::vector<Simd> out{Simd::Portable};
  for (Simd s : {Simd::Avx2, Simd::Avx512}) {
    SimdScope scope(s);
    if (use_avx2() && use_avx512() == (s == Simd::Avx512)) out.push_back(s);
  }
  return out;
}

}  // namespace dl::kernels::testing
