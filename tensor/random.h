// random.h — a seeded, portable random generator (tutorial chapter 4 uses it for MSRA init).
// std::normal_distribution differs between standard libraries, so the project draws its own
// numbers: xoshiro256** for bits, Box–Muller for normals. The same seed gives the same
// numbers on every machine and for every thread count (draws are always sequential).
#pragma once

#include <array>
#include <cstdint>

namespace dl {

/// Seeded pseudo-random generator (xoshiro256**). Cheap to copy; its state can be saved
/// into a checkpoint and restored so a resumed run draws the same numbers.
class Generator {
 public:
  /// Seeds the 256-bit state from @p seed through splitmix64.
  explicit Generator(uint64_t seed = 0);
  /// Next 64 random bits.
  uint64_t next_u64();
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform integer in [0, n); n > 0.
  uint64_t randint(uint64_t n);
  /// Standard normal draw (Box–Muller, one value per call; the pair's twin is cached).
  double normal();
  /// The full state (4 words of xoshiro plus the cached normal), for checkpoints.
  std::array<uint64_t, 6> state() const;
  /// Restores a state returned by state().
  void set_state(const std::array<uint64_t, 6>& s);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
};

/// The process-wide default generator, used when a factory is given none.
Generator& default_generator();

}  // namespace dl
