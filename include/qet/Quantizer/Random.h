//===- Random.h - Seeded, platform-independent random numbers --*- C++ -*-===//
//
// xoshiro256** seeded through splitmix64. Unlike <random>'s distributions, the
// derived draws below are defined here, so a seed gives the same stream with
// every standard library.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_RANDOM_H
#define QET_QUANTIZER_RANDOM_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

/// Default seed of every random step (the reference implementation's).
constexpr uint64_t kDefaultSeed = 123;

class Rng {
public:
  explicit Rng(uint64_t seed);

  /// Next raw 64-bit output.
  uint64_t next();
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform integer in [0, bound), unbiased (bound > 0).
  uint64_t below(uint64_t bound);
  /// Standard normal draw (Box-Muller, both values used).
  double normal();
  /// `count` distinct indices from [0, population), uniformly, in draw order
  /// (partial Fisher-Yates). Requires count <= population.
  std::vector<size_t> sampleWithoutReplacement(size_t population, size_t count);

private:
  uint64_t state[4];
  double spareNormal = 0.0;
  bool hasSpareNormal = false;
};

} // namespace qet::quant

#endif // QET_QUANTIZER_RANDOM_H
