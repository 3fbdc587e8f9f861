// random.cpp — xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64, and
// Box–Muller normals. Self-contained so every platform draws identical numbers.
#include "tensor/random.h"

#include <cmath>
#include <stdexcept>

namespace dl {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Generator::Generator(uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Generator::randint(uint64_t n) {
  if (n == 0) throw std::invalid_argument("randint: n must be positive, got 0");
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do r = next_u64(); while (r >= limit);
  return r % n;
}

double Generator::normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  // Box–Muller: two uniforms -> two independent standard normals. 1 - u keeps log() finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  cached_normal_ = r * std::sin(theta);
  has_cached_normal_ = true;
  return r * std::cos(theta);
}

std::array<uint64_t, 6> Generator::state() const {
  uint64_t cached_bits;
  static_assert(sizeof(cached_bits) == sizeof(cached_normal_));
  __builtin_memcpy(&cached_bits, &cached_normal_, sizeof(cached_bits));
  return {s_[0], s_[1], s_[2], s_[3], has_cached_normal_ ? 1ull : 0ull, cached_bits};
}

void Generator::set_state(const std::array<uint64_t, 6>& s) {
  for (int i = 0; i < 4; ++i) s_[i] = s[i];
  has_cached_normal_ = s[4] != 0;
  __builtin_memcpy(&cached_normal_, &s[5], sizeof(cached_normal_));
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

}  // namespace dl
