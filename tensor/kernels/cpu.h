// cpu.h — run-time CPU feature detection that picks SIMD kernels (tutorial chapter 6).
// The build stays portable: only *_avx2.cpp files get -mavx2 -mfma (and *_avx512.cpp
// -mavx512f), and they run only when the CPU reports those features. DL_KERNELS=ref in the
// environment forces the portable kernels, DL_KERNELS=avx2 stops at AVX2.
#pragma once

namespace dl::kernels {

/// True when the CPU has AVX2 and FMA and DL_KERNELS is not "ref" (read once, cached).
bool use_avx2();
/// Overrides the choice for this process (tests compare both paths).
void set_use_avx2(bool on);

/// True when use_avx2() and the CPU has AVX-512F and DL_KERNELS is not "avx2" (cached): the
/// Winograd GEMMs and float gemm() then run on 16-float vectors.
bool use_avx512();
/// Overrides the choice for this process (honoured only where AVX-512 can run).
void set_use_avx512(bool on);

}  // namespace dl::kernels
