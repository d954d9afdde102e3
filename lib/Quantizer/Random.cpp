//===- Random.cpp - Seeded, platform-independent random numbers -----------===//

#include "qet/Quantizer/Random.h"

#include "qet/Quantizer/Error.h"

#include <cmath>
#include <numeric>

namespace qet::quant {

static uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Rng::Rng(uint64_t seed) {
  for (uint64_t &word : state)
    word = splitmix64(seed);
}

uint64_t Rng::next() {
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t bound) {
  if (bound == 0)
    throw Error("Rng::below: empty range");
  // Rejection sampling over the largest multiple of `bound`.
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value;
  do {
    value = next();
  } while (value >= limit);
  return value % bound;
}

double Rng::normal() {
  if (hasSpareNormal) {
    hasSpareNormal = false;
    return spareNormal;
  }
  double u1;
  do {
    u1 = uniform();
  } while (u1 <= 0.0);
  double u2 = uniform();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * M_PI * u2;
  spareNormal = radius * std::sin(angle);
  hasSpareNormal = true;
  return radius * std::cos(angle);
}

std::vector<size_t> Rng::sampleWithoutReplacement(size_t population,
                                                  size_t count) {
  if (count > population)
    throw Error("cannot draw " + std::to_string(count) +
                " distinct indices from " + std::to_string(population));
  std::vector<size_t> pool(population);
  std::iota(pool.begin(), pool.end(), size_t{0});
  for (size_t i = 0; i < count; ++i) {
    size_t j = i + static_cast<size_t>(below(population - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(count);
  return pool;
}

} // namespace qet::quant
