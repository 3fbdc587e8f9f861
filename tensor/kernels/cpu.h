// cpu.h — run-time CPU feature detection that picks SIMD kernels (tutorial chapter 6).
// The build stays portable: only *_avx2.cpp files get -mavx2 -mfma, and they run only when
// the CPU reports AVX2 and FMA. DL_KERNELS=ref in the environment forces portable kernels.
#pragma once

namespace dl::kernels {

/// True when the CPU has AVX2 and FMA and DL_KERNELS is not "ref" (read once, cached).
bool use_avx2();
/// Overrides the choice for this process (tests compare both paths).
void set_use_avx2(bool on);

}  // namespace dl::kernels
