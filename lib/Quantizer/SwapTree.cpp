//===- SwapTree.cpp - The HERA/QET swap tree ------------------------------===//
//
// The vectorized form works on one row at a time (all l layers while the row
// is in L1) and on all d/2 pairs of a layer at once: the pairs of every block
// are the even/odd elements of the whole row in order, so one deinterleave
// gives every block's a and c, one compare gives the layer's mask (packed to
// bits with movemask, already in stored order), and branch-free selects give
// the pair minima S and maxima L. The row is then re-blocked: block b of
// width w = 2h gets S[bh, bh+h) followed by L[bh, bh+h). The inverse gathers
// S and L back from the blocks, selects (a, c) by the stored mask and
// interleaves them.
//
// Selects, not min/max instructions, define the values: S = (a < c) ? a : c,
// L = (a < c) ? c : a, so -0.0 / +0.0 ties and equal values round-trip
// exactly in both forms.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/SwapTree.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QET_SWAP_X86 1
#endif

namespace qet::quant {

void requireSwapDepth(size_t cols, unsigned depth) {
  if (depth > 31 || cols % (size_t{1} << depth) != 0)
    throw Error("swap tree: depth l = " + std::to_string(depth) +
                " needs the row length d = " + std::to_string(cols) +
                " to be divisible by 2^l" +
                (depth > 31 ? "" : " = " + std::to_string(size_t{1} << depth)) +
                " (no padding is done); use a smaller depth");
}

SwapBits makeSwapBits(size_t rows, size_t cols, unsigned depth) {
  requireSwapDepth(cols, depth);
  SwapBits bits;
  bits.rows = rows;
  bits.cols = cols;
  bits.depth = depth;
  bits.bytes.assign(packedBytes(bits.count(), 1), 0);
  return bits;
}

//===----------------------------------------------------------------------===//
// Reference form
//===----------------------------------------------------------------------===//

void swapTreeRowReference(float *row, size_t d, unsigned depth,
                          uint8_t *bits) {
  requireSwapDepth(d, depth);
  std::vector<float> block(d);
  for (unsigned k = 1; k <= depth; ++k) {
    size_t blocks = size_t{1} << (k - 1), w = d / blocks, half = w / 2;
    for (size_t b = 0; b < blocks; ++b) {
      float *v = row + b * w;
      for (size_t t = 0; t < half; ++t) {
        float a = v[2 * t], c = v[2 * t + 1];
        if (a < c) {
          block[t] = a;
          block[half + t] = c;
          *bits++ = 1;
        } else {
          block[t] = c;
          block[half + t] = a;
          *bits++ = 0;
        }
      }
      std::memcpy(v, block.data(), w * sizeof(float));
    }
  }
}

void unswapTreeRowReference(float *row, size_t d, unsigned depth,
                            const uint8_t *bits) {
  requireSwapDepth(d, depth);
  std::vector<float> block(d);
  for (unsigned k = depth; k >= 1; --k) {
    size_t blocks = size_t{1} << (k - 1), w = d / blocks, half = w / 2;
    const uint8_t *layer = bits + (k - 1) * (d / 2);
    for (size_t b = 0; b < blocks; ++b) {
      float *v = row + b * w;
      for (size_t t = 0; t < half; ++t) {
        float s = v[t], l = v[half + t];
        if (layer[b * half + t]) {
          block[2 * t] = s;
          block[2 * t + 1] = l;
        } else {
          block[2 * t] = l;
          block[2 * t + 1] = s;
        }
      }
      std::memcpy(v, block.data(), w * sizeof(float));
    }
  }
}

SwapBits swapTreeReference(Matrix &x, unsigned depth) {
  SwapBits bits = makeSwapBits(x.rows, x.cols, depth);
  size_t perRow = depth * (x.cols / 2);
  std::vector<uint8_t> flags(perRow);
  for (size_t r = 0; r < x.rows; ++r) {
    swapTreeRowReference(x.row(r), x.cols, depth, flags.data());
    uint64_t base = bits.offset(r, 0);
    for (size_t i = 0; i < perRow; ++i)
      if (flags[i])
        bits.bytes[(base + i) >> 3] |= uint8_t(1u << ((base + i) & 7));
  }
  return bits;
}

void unswapTreeReference(Matrix &x, const SwapBits &bits) {
  if (x.rows != bits.rows || x.cols != bits.cols)
    throw Error("swap tree: bits of a " + std::to_string(bits.rows) + "x" +
                std::to_string(bits.cols) + " matrix cannot undo a " +
                std::to_string(x.rows) + "x" + std::to_string(x.cols) + " one");
  size_t perRow = bits.depth * (x.cols / 2);
  std::vector<uint8_t> flags(perRow);
  for (size_t r = 0; r < x.rows; ++r) {
    uint64_t base = bits.offset(r, 0);
    for (size_t i = 0; i < perRow; ++i)
      flags[i] = (bits.bytes[(base + i) >> 3] >> ((base + i) & 7)) & 1;
    unswapTreeRowReference(x.row(r), x.cols, bits.depth, flags.data());
  }
}

//===----------------------------------------------------------------------===//
// Vectorized form
//===----------------------------------------------------------------------===//

namespace {

std::atomic<bool> forcePortable{false};

/// Copies `count` bits starting at stream bit `offset` to `out` (bit i of
/// the result at out[i >> 3] bit i & 7; trailing bits of the last byte 0).
void copyBitsOut(const std::vector<uint8_t> &stream, uint64_t offset,
                 size_t count, uint8_t *out) {
  size_t bytes = (count + 7) / 8;
  size_t first = offset >> 3;
  unsigned shift = offset & 7;
  if (shift == 0) {
    std::memcpy(out, stream.data() + first, bytes);
  } else {
    for (size_t q = 0; q < bytes; ++q) {
      unsigned v = stream[first + q] >> shift;
      if (first + q + 1 < stream.size())
        v |= unsigned(stream[first + q + 1]) << (8 - shift);
      out[q] = uint8_t(v);
    }
  }
  if (count % 8)
    out[bytes - 1] &= uint8_t((1u << (count % 8)) - 1);
}

/// ORs `count` bits of `in` (layout as copyBitsOut's output, trailing bits
/// zero) into the stream at bit `offset`.
void copyBitsIn(std::vector<uint8_t> &stream, uint64_t offset, size_t count,
                const uint8_t *in) {
  size_t bytes = (count + 7) / 8;
  size_t first = offset >> 3;
  unsigned shift = offset & 7;
  for (size_t q = 0; q < bytes; ++q) {
    unsigned v = unsigned(in[q]) << shift;
    stream[first + q] |= uint8_t(v);
    if (v >> 8)
      stream[first + q + 1] |= uint8_t(v >> 8);
  }
}

// A pair pass reads `pairs` (a, c) pairs from src[2j], src[2j + 1] and
// writes S[j], L[j]. Forward: the mask is a < c and is stored to `masks`
// (bit j at masks[j >> 3]); from bits: the mask is read from `masks`.
// The unpair pass is the inverse: (a, c) = mask ? (S, L) : (L, S).

template <bool FromBits>
void pairPassPortable(const float *src, size_t pairs, float *s, float *l,
                      uint8_t *masks) {
  if (!FromBits)
    std::memset(masks, 0, (pairs + 7) / 8);
  for (size_t j = 0; j < pairs; ++j) {
    float a = src[2 * j], c = src[2 * j + 1];
    bool m;
    if constexpr (FromBits)
      m = (masks[j >> 3] >> (j & 7)) & 1;
    else
      m = a < c;
    s[j] = m ? a : c;
    l[j] = m ? c : a;
    if constexpr (!FromBits)
      masks[j >> 3] |= uint8_t(unsigned(m) << (j & 7));
  }
}

void unpairPassPortable(const float *s, const float *l, size_t pairs,
                        const uint8_t *masks, float *dst) {
  for (size_t j = 0; j < pairs; ++j) {
    bool m = (masks[j >> 3] >> (j & 7)) & 1;
    dst[2 * j] = m ? s[j] : l[j];
    dst[2 * j + 1] = m ? l[j] : s[j];
  }
}

#ifdef QET_SWAP_X86
__attribute__((target("avx2"))) inline __m256 maskFromByte(unsigned byte) {
  const __m256i select = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256i bitsSet =
      _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(byte)), select);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(bitsSet, select));
}

template <bool FromBits>
__attribute__((target("avx2"))) void
pairPassAvx2(const float *src, size_t pairs, float *s, float *l,
             uint8_t *masks) {
  size_t j = 0;
  for (; j + 8 <= pairs; j += 8) {
    __m256 v0 = _mm256_loadu_ps(src + 2 * j);
    __m256 v1 = _mm256_loadu_ps(src + 2 * j + 8);
    // [a0 a1 a4 a5 | a2 a3 a6 a7] -> [a0 .. a7]; likewise c.
    __m256 a = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0))),
        _MM_SHUFFLE(3, 1, 2, 0)));
    __m256 c = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1))),
        _MM_SHUFFLE(3, 1, 2, 0)));
    __m256 m;
    if constexpr (FromBits) {
      m = maskFromByte(masks[j >> 3]);
    } else {
      m = _mm256_cmp_ps(a, c, _CMP_LT_OQ);
      masks[j >> 3] = static_cast<uint8_t>(_mm256_movemask_ps(m));
    }
    _mm256_storeu_ps(s + j, _mm256_blendv_ps(c, a, m));
    _mm256_storeu_ps(l + j, _mm256_blendv_ps(a, c, m));
  }
  if (j < pairs) {
    // The tail starts on a byte boundary of `masks`.
    pairPassPortable<FromBits>(src + 2 * j, pairs - j, s + j, l + j,
                               masks + (j >> 3));
  }
}

__attribute__((target("avx2"))) void
unpairPassAvx2(const float *s, const float *l, size_t pairs,
               const uint8_t *masks, float *dst) {
  size_t j = 0;
  for (; j + 8 <= pairs; j += 8) {
    __m256 m = maskFromByte(masks[j >> 3]);
    __m256 sv = _mm256_loadu_ps(s + j), lv = _mm256_loadu_ps(l + j);
    __m256 a = _mm256_blendv_ps(lv, sv, m);
    __m256 c = _mm256_blendv_ps(sv, lv, m);
    __m256 lo = _mm256_unpacklo_ps(a, c); // a0 c0 a1 c1 | a4 c4 a5 c5
    __m256 hi = _mm256_unpackhi_ps(a, c); // a2 c2 a3 c3 | a6 c6 a7 c7
    _mm256_storeu_ps(dst + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(dst + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  if (j < pairs)
    unpairPassPortable(s + j, l + j, pairs - j, masks + (j >> 3),
                       dst + 2 * j);
}

bool cpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

struct Kernels {
  void (*pairCompare)(const float *, size_t, float *, float *, uint8_t *);
  void (*pairFromBits)(const float *, size_t, float *, float *, uint8_t *);
  void (*unpair)(const float *, const float *, size_t, const uint8_t *,
                 float *);
};

Kernels selectKernels() {
#ifdef QET_SWAP_X86
  if (!forcePortable.load(std::memory_order_relaxed) && cpuHasAvx2())
    return {pairPassAvx2<false>, pairPassAvx2<true>, unpairPassAvx2};
#endif
  return {pairPassPortable<false>, pairPassPortable<true>,
          unpairPassPortable};
}

/// Row in block layout (blocks of width 2h) <-> S and L in pair order.
void reblock(const float *s, const float *l, size_t d, size_t h, float *row) {
  if (h == 1) {
    for (size_t j = 0; j < d / 2; ++j) {
      row[2 * j] = s[j];
      row[2 * j + 1] = l[j];
    }
    return;
  }
  for (size_t b = 0; b < d / (2 * h); ++b) {
    std::memcpy(row + 2 * b * h, s + b * h, h * sizeof(float));
    std::memcpy(row + 2 * b * h + h, l + b * h, h * sizeof(float));
  }
}

void unblock(const float *row, size_t d, size_t h, float *s, float *l) {
  if (h == 1) {
    for (size_t j = 0; j < d / 2; ++j) {
      s[j] = row[2 * j];
      l[j] = row[2 * j + 1];
    }
    return;
  }
  for (size_t b = 0; b < d / (2 * h); ++b) {
    std::memcpy(s + b * h, row + 2 * b * h, h * sizeof(float));
    std::memcpy(l + b * h, row + 2 * b * h + h, h * sizeof(float));
  }
}

void prepare(SwapScratch &scratch, size_t d) {
  if (scratch.values.size() < d)
    scratch.values.resize(d);
  if (scratch.masks.size() < d / 16 + 1)
    scratch.masks.resize(d / 16 + 1);
}

/// Forward layers on one row. Compare mode (`out` set) computes the masks
/// and ORs them into `out`; bits mode reads them from `in`.
void forwardRow(const Kernels &kernels, float *row, size_t d, unsigned depth,
                size_t rowIndex, const SwapBits *in, SwapBits *out,
                SwapScratch &scratch) {
  prepare(scratch, d);
  float *s = scratch.values.data(), *l = s + d / 2;
  uint8_t *masks = scratch.masks.data();
  for (unsigned k = 0; k < depth; ++k) {
    size_t h = d >> (k + 1);
    if (out) {
      kernels.pairCompare(row, d / 2, s, l, masks);
      copyBitsIn(out->bytes, out->offset(rowIndex, k), d / 2, masks);
    } else {
      copyBitsOut(in->bytes, in->offset(rowIndex, k), d / 2, masks);
      kernels.pairFromBits(row, d / 2, s, l, masks);
    }
    reblock(s, l, d, h, row);
  }
}

void inverseRow(const Kernels &kernels, float *row, size_t d,
                const SwapBits &bits, size_t rowIndex, SwapScratch &scratch) {
  prepare(scratch, d);
  float *s = scratch.values.data(), *l = s + d / 2;
  uint8_t *masks = scratch.masks.data();
  for (unsigned k = bits.depth; k-- > 0;) {
    size_t h = d >> (k + 1);
    unblock(row, d, h, s, l);
    copyBitsOut(bits.bytes, bits.offset(rowIndex, k), d / 2, masks);
    kernels.unpair(s, l, d / 2, masks, row);
  }
}

/// Rows go to threads in groups of 8, so each thread's bit range starts on a
/// byte boundary (8 * l * d/2 bits per group) and no byte is shared.
constexpr size_t kRowGroup = 8;

template <typename Body>
void forRowGroups(size_t rows, size_t cols, unsigned depth, unsigned threads,
                  const Body &body) {
  size_t groups = (rows + kRowGroup - 1) / kRowGroup;
  size_t work = kRowGroup * std::max<size_t>(cols, 1) * std::max(depth, 1u);
  size_t minChunk = std::max<size_t>(1, (size_t{1} << 16) / work);
  parallelFor(
      0, groups, threads,
      [&](size_t begin, size_t end) {
        SwapScratch scratch;
        for (size_t r = begin * kRowGroup;
             r < std::min(rows, end * kRowGroup); ++r)
          body(r, scratch);
      },
      minChunk);
}

} // namespace

namespace detail {
bool setPortableSwapKernel(bool portable) {
  return forcePortable.exchange(portable);
}
} // namespace detail

SwapBits swapTree(Matrix &x, unsigned depth, unsigned threads) {
  SwapBits bits = makeSwapBits(x.rows, x.cols, depth);
  if (depth == 0)
    return bits;
  Kernels kernels = selectKernels();
  forRowGroups(x.rows, x.cols, depth, threads,
               [&](size_t r, SwapScratch &scratch) {
                 forwardRow(kernels, x.row(r), x.cols, depth, r, nullptr,
                            &bits, scratch);
               });
  return bits;
}

void unswapTree(Matrix &x, const SwapBits &bits, unsigned threads) {
  if (x.rows != bits.rows || x.cols != bits.cols)
    throw Error("swap tree: bits of a " + std::to_string(bits.rows) + "x" +
                std::to_string(bits.cols) + " matrix cannot undo a " +
                std::to_string(x.rows) + "x" + std::to_string(x.cols) + " one");
  if (bits.depth == 0)
    return;
  Kernels kernels = selectKernels();
  forRowGroups(x.rows, x.cols, bits.depth, threads,
               [&](size_t r, SwapScratch &scratch) {
                 inverseRow(kernels, x.row(r), x.cols, bits, r, scratch);
               });
}

void applyRowSwaps(const SwapBits &bits, size_t row, float *v,
                   SwapScratch &scratch) {
  if (bits.depth)
    forwardRow(selectKernels(), v, bits.cols, bits.depth, row, &bits, nullptr,
               scratch);
}

void undoRowSwaps(const SwapBits &bits, size_t row, float *v,
                  SwapScratch &scratch) {
  if (bits.depth)
    inverseRow(selectKernels(), v, bits.cols, bits, row, scratch);
}

std::vector<uint32_t> swapPermutation(const SwapBits &bits, size_t row) {
  const size_t d = bits.cols;
  std::vector<uint32_t> pi(d), next(d);
  for (size_t p = 0; p < d; ++p)
    pi[p] = static_cast<uint32_t>(p);
  for (unsigned k = 0; k < bits.depth; ++k) {
    size_t h = d >> (k + 1);
    for (size_t j = 0; j < d / 2; ++j) {
      size_t b = j / h, t = j % h;
      uint32_t a = pi[2 * j], c = pi[2 * j + 1];
      bool m = bits.bit(row, k, j);
      next[2 * b * h + t] = m ? a : c;
      next[2 * b * h + h + t] = m ? c : a;
    }
    pi.swap(next);
  }
  return pi;
}

} // namespace qet::quant
