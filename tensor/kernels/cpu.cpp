// cpu.cpp — run-time CPU feature detection for the SIMD kernels (tutorial chapter 6).
// One cached flag decides whether *_avx2.cpp kernels may run: the CPU must report AVX2 and FMA,
// the build must have compiled them (DL_WITH_AVX2), and DL_KERNELS=ref must not be set.
// A second flag does the same for *_avx512.cpp (AVX-512F, DL_WITH_AVX512, not DL_KERNELS=avx2).
#include "tensor/kernels/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace dl::kernels {
namespace {

// -1 = not decided yet, 0 = portable kernels, 1 = AVX2/FMA kernels.
std::atomic<int> g_avx2_state{-1};
// -1 = not decided yet, 0 = no AVX-512 kernels, 1 = AVX-512 kernels.
std::atomic<int> g_avx512_state{-1};

bool cpu_can_avx512() {
#if defined(DL_WITH_AVX512) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool kernels_env_is(const char* value) {
  const char* env = std::getenv("DL_KERNELS");
  return env != nullptr && std::strcmp(env, value) == 0;
}

bool detect_avx2() {
#if defined(DL_WITH_AVX2) && (defined(__x86_64__) || defined(__i386__))
  if (kernels_env_is("ref")) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;  // the AVX2 translation units were not built, or this is not x86
#endif
}

bool cpu_can_avx2() {
#if defined(DL_WITH_AVX2) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

bool use_avx2() {
  int s = g_avx2_state.load(std::memory_order_relaxed);
  if (s < 0) {
    s = detect_avx2() ? 1 : 0;
    g_avx2_state.store(s, std::memory_order_relaxed);
  }
  return s == 1;
}

void set_use_avx2(bool on) {
  // Turning AVX2 on is honoured only where it can actually run; callers (tests) read use_avx2()
  // afterwards to learn which path is active.
  g_avx2_state.store(on && cpu_can_avx2() ? 1 : 0, std::memory_order_relaxed);
}

bool use_avx512() {
  if (!use_avx2()) return false;
  int s = g_avx512_state.load(std::memory_order_relaxed);
  if (s < 0) {
    s = cpu_can_avx512() && !kernels_env_is("avx2") ? 1 : 0;
    g_avx512_state.store(s, std::memory_order_relaxed);
  }
  return s == 1;
}

void set_use_avx512(bool on) {
  g_avx512_state.store(on && cpu_can_avx512() ? 1 : 0, std::memory_order_relaxed);
}

}  // namespace dl::kernels
