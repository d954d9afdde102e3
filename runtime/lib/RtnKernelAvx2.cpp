//===- RtnKernelAvx2.cpp - Group-wise RTN rows with AVX2 + FMA ------------===//
//
// Per row: the row's fp16 scales and zero points are widened with F16C;
// each group accumulates code * x in four 8-lane FMA chains (code c of a
// group goes to chain (c / 8) % 4, whatever the batch, so a batch item's
// result never depends on the batch around it); each chain is scaled into
// the row's chains once per group; the zero points' share is one dot
// product of the row's zero points with the group sums of x.
//
// Decoding, in the usual case of rows and groups starting on a byte: blocks
// of 32 codes (4 * bits bytes). Widths dividing 32 broadcast the 32-bit
// word holding 8 codes, shift each lane's field to the top and back down
// (arithmetic shift when signed); 8-bit codes are widened bytes; other
// widths take 8 codes from one 64-bit load. Rows that start mid-byte (odd
// widths and column counts) and the last rows, where a 64-bit load could
// pass the end of the codes, take a general path with a fixed in-byte shift
// and bounds-checked loads. Two batch items share every decoded vector.
// Compiled through target attributes, only called when cpuHasAvx2().
//
//===----------------------------------------------------------------------===//

#include "RtnKernel.h"

#include "Dot.h"
#include "SectionReader.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#define QET_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace qet::runtime::detail {

namespace {

constexpr int kChains = 4;

template <bool Signed> QET_AVX2 inline __m256 finish(__m256i v, unsigned bits) {
  v = Signed ? _mm256_srai_epi32(v, 32 - bits)
             : _mm256_srli_epi32(v, 32 - bits);
  return _mm256_cvtepi32_ps(v);
}

/// 8 codes starting `shift` bits into p, from one 64-bit load (shift +
/// 8 * Bits <= 64 always holds: shift is 0 when Bits = 8).
template <unsigned Bits, bool Signed>
QET_AVX2 inline __m256 decode8(const uint8_t *p, unsigned shift) {
  uint64_t word = loadU64(p) >> shift;
  __m128i lo = _mm_set1_epi32(static_cast<int>(static_cast<uint32_t>(word)));
  __m128i hi = _mm_set1_epi32(
      static_cast<int>(static_cast<uint32_t>(word >> (4 * Bits))));
  __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  const __m256i left =
      _mm256_setr_epi32(32 - Bits, 32 - 2 * Bits, 32 - 3 * Bits, 32 - 4 * Bits,
                        32 - Bits, 32 - 2 * Bits, 32 - 3 * Bits, 32 - 4 * Bits);
  return finish<Signed>(_mm256_sllv_epi32(v, left), Bits);
}

/// Codes 8K .. 8K + 7 of the byte-aligned 32-code block at p. Reads stay
/// inside the block, except for widths not dividing 32, whose 64-bit load
/// reaches up to 8 - Bits bytes past it.
template <unsigned Bits, bool Signed, int K>
QET_AVX2 inline __m256 decodeBlock(const uint8_t *p) {
  if constexpr (Bits == 8) {
    __m128i bytes =
        _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p + 8 * K));
    return _mm256_cvtepi32_ps(Signed ? _mm256_cvtepi8_epi32(bytes)
                                     : _mm256_cvtepu8_epi32(bytes));
  } else if constexpr (32 % Bits == 0) {
    constexpr unsigned perWord = 32 / Bits;
    constexpr unsigned word = 8 * K / perWord, offset = 8 * K % perWord * Bits;
    int32_t w;
    std::memcpy(&w, p + 4 * word, sizeof w);
    const __m256i left = _mm256_setr_epi32(
        32 - offset - Bits, 32 - offset - 2 * Bits, 32 - offset - 3 * Bits,
        32 - offset - 4 * Bits, 32 - offset - 5 * Bits, 32 - offset - 6 * Bits,
        32 - offset - 7 * Bits, 32 - offset - 8 * Bits);
    return finish<Signed>(_mm256_sllv_epi32(_mm256_set1_epi32(w), left), Bits);
  } else {
    return decode8<Bits, Signed>(p + K * Bits, 0);
  }
}

QET_AVX2 inline float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/// out[0, count) = fp16 in[0, count), 8 at a time with F16C.
QET_AVX2 void widenHalves(const uint16_t *in, size_t count, float *out) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i *>(in + i))));
  for (; i < count; ++i)
    out[i] = halfToFloat(in[i]);
}

template <bool Signed>
inline float tailCode(const RtnView &view, uint64_t index, unsigned bits) {
  uint32_t field = readField(view.codes, view.codeBytes, index, bits);
  if (!Signed)
    return static_cast<float>(field);
  int32_t half = int32_t{1} << (bits - 1);
  return static_cast<float>((static_cast<int32_t>(field) ^ half) - half);
}

template <int NB> struct Chains {
  __m256 v[NB][kChains];

  QET_AVX2 void clear() {
    for (int b = 0; b < NB; ++b)
      for (int u = 0; u < kChains; ++u)
        v[b][u] = _mm256_setzero_ps();
  }
  /// Chain U of every item += q * x_b[c .. c + 8).
  template <int U>
  QET_AVX2 void add(__m256 q, const float *const *xs, size_t c) {
    for (int b = 0; b < NB; ++b)
      v[b][U] = _mm256_fmadd_ps(q, _mm256_loadu_ps(xs[b] + c), v[b][U]);
  }
};

/// Codes of one group (length codes from field `start`), byte-aligned, with
/// every load inside the codes (the caller checked the row). Returns how
/// many codes went into `acc` (a multiple of 8; the rest is the tail).
template <unsigned Bits, bool Signed, int NB>
QET_AVX2 size_t groupAligned(const RtnView &view, uint64_t start, size_t length,
                             const float *const *xs, Chains<NB> &acc) {
  const uint8_t *p = view.codes + start * Bits / 8;
  size_t c = 0;
  for (; c + 32 <= length; c += 32, p += 4 * Bits) {
    acc.template add<0>(decodeBlock<Bits, Signed, 0>(p), xs, c);
    acc.template add<1>(decodeBlock<Bits, Signed, 1>(p), xs, c + 8);
    acc.template add<2>(decodeBlock<Bits, Signed, 2>(p), xs, c + 16);
    acc.template add<3>(decodeBlock<Bits, Signed, 3>(p), xs, c + 24);
  }
  if (c + 8 <= length) {
    acc.template add<0>(decode8<Bits, Signed>(p, 0), xs, c);
    c += 8, p += Bits;
  }
  if (c + 8 <= length) {
    acc.template add<1>(decode8<Bits, Signed>(p, 0), xs, c);
    c += 8, p += Bits;
  }
  if (c + 8 <= length) {
    acc.template add<2>(decode8<Bits, Signed>(p, 0), xs, c);
    c += 8;
  }
  return c;
}

/// The same for any bit offset, each 64-bit load checked against the end.
template <unsigned Bits, bool Signed, int NB>
QET_AVX2 size_t groupGeneral(const RtnView &view, uint64_t start, size_t length,
                             const float *const *xs, Chains<NB> &acc) {
  const uint64_t bit = start * Bits;
  const uint8_t *p = view.codes + (bit >> 3);
  const unsigned shift = bit & 7;
  const uint64_t room = view.codeBytes - (bit >> 3);
  size_t steps =
      room < 8 ? 0 : std::min<size_t>(length / 8, (room - 8) / Bits + 1);
  size_t i = 0;
  for (; i + 4 <= steps; i += 4, p += 4 * Bits) {
    acc.template add<0>(decode8<Bits, Signed>(p, shift), xs, 8 * i);
    acc.template add<1>(decode8<Bits, Signed>(p + Bits, shift), xs, 8 * i + 8);
    acc.template add<2>(decode8<Bits, Signed>(p + 2 * Bits, shift), xs,
                        8 * i + 16);
    acc.template add<3>(decode8<Bits, Signed>(p + 3 * Bits, shift), xs,
                        8 * i + 24);
  }
  if (i < steps)
    acc.template add<0>(decode8<Bits, Signed>(p, shift), xs, 8 * i++);
  if (i < steps)
    acc.template add<1>(decode8<Bits, Signed>(p + Bits, shift), xs, 8 * i++);
  if (i < steps)
    acc.template add<2>(decode8<Bits, Signed>(p + 2 * Bits, shift), xs,
                        8 * i++);
  return 8 * i;
}

/// Y[b0 + b][r] for b < NB and rows [rowBegin, rowEnd).
template <unsigned Bits, bool Signed, int NB>
QET_AVX2 void rowsBlock(const RtnView &view, const float *x, size_t b0,
                        const float *xSums, float *y, size_t rowBegin,
                        size_t rowEnd) {
  const size_t cols = view.cols, groups = view.groups();
  std::vector<float> scales(groups), zeros(Signed ? 0 : groups);
  const bool groupsAligned = uint64_t(view.group) * Bits % 8 == 0;
  for (size_t r = rowBegin; r < rowEnd; ++r) {
    widenHalves(view.scales + r * groups, groups, scales.data());
    if (!Signed)
      widenHalves(view.zeros + r * groups, groups, zeros.data());
    const uint64_t rowField = uint64_t(r) * cols;
    const uint64_t rowEndByte = ((rowField + cols) * Bits + 7) / 8;
    const bool aligned = groupsAligned && rowField * Bits % 8 == 0 &&
                         rowEndByte + 8 <= view.codeBytes;
    Chains<NB> rowAcc;
    rowAcc.clear();
    float rest[NB] = {};
    for (size_t g = 0; g < groups; ++g) {
      const size_t first = g * view.group;
      const size_t length = std::min<size_t>(view.group, cols - first);
      const float *xs[NB];
      for (int b = 0; b < NB; ++b)
        xs[b] = x + (b0 + b) * cols + first;
      Chains<NB> acc;
      acc.clear();
      const size_t done =
          aligned ? groupAligned<Bits, Signed, NB>(view, rowField + first,
                                                   length, xs, acc)
                  : groupGeneral<Bits, Signed, NB>(view, rowField + first,
                                                   length, xs, acc);
      const __m256 scale = _mm256_set1_ps(scales[g]);
      for (int b = 0; b < NB; ++b)
        for (int u = 0; u < kChains; ++u)
          rowAcc.v[b][u] = _mm256_fmadd_ps(scale, acc.v[b][u], rowAcc.v[b][u]);
      if (done < length) {
        float tail[NB] = {};
        for (size_t c = done; c < length; ++c) {
          float code = tailCode<Signed>(view, rowField + first + c, Bits);
          for (int b = 0; b < NB; ++b)
            tail[b] += code * xs[b][c];
        }
        for (int b = 0; b < NB; ++b)
          rest[b] += scales[g] * tail[b];
      }
    }
    for (int b = 0; b < NB; ++b) {
      if (!Signed)
        rest[b] += dotAvx2(zeros.data(), xSums + (b0 + b) * groups, groups);
      __m256 sum = _mm256_add_ps(_mm256_add_ps(rowAcc.v[b][0], rowAcc.v[b][1]),
                                 _mm256_add_ps(rowAcc.v[b][2], rowAcc.v[b][3]));
      y[(b0 + b) * view.rows + r] = horizontalSum(sum) + rest[b];
    }
  }
}

using BlockFn = void (*)(const RtnView &, const float *, size_t, const float *,
                         float *, size_t, size_t);

template <unsigned Bits, bool Signed> BlockFn blockFor(size_t nb) {
  return nb == 1 ? rowsBlock<Bits, Signed, 1> : rowsBlock<Bits, Signed, 2>;
}

template <bool Signed> BlockFn blockFor(unsigned bits, size_t nb) {
  switch (bits) {
  case 1:
    return blockFor<1, Signed>(nb);
  case 2:
    return blockFor<2, Signed>(nb);
  case 3:
    return blockFor<3, Signed>(nb);
  case 4:
    return blockFor<4, Signed>(nb);
  case 5:
    return blockFor<5, Signed>(nb);
  case 6:
    return blockFor<6, Signed>(nb);
  case 7:
    return blockFor<7, Signed>(nb);
  default:
    return blockFor<8, Signed>(nb);
  }
}

} // namespace

void rtnRowsAvx2(const RtnView &view, const float *x, size_t batch,
                 const float *xSums, float *y, size_t rowBegin, size_t rowEnd) {
  // Blocks of 16 rows, every batch block over them before moving on, so a
  // block's codes stay in L1/L2 while further batch items reuse them. Two
  // items per block: 2 x 4 chains (and 2 x 4 per group) fit the registers.
  constexpr size_t kBlock = 2, kRows = 16;
  for (size_t r0 = rowBegin; r0 < rowEnd; r0 += kRows) {
    const size_t r1 = std::min(rowEnd, r0 + kRows);
    for (size_t b0 = 0; b0 < batch; b0 += kBlock) {
      const size_t nb = std::min(kBlock, batch - b0);
      BlockFn fn = view.symmetric() ? blockFor<true>(view.bits, nb)
                                    : blockFor<false>(view.bits, nb);
      fn(view, x, b0, xSums, y, r0, r1);
    }
  }
}

} // namespace qet::runtime::detail

#else // not x86

#include "qet/runtime/RuntimeError.h"

namespace qet::runtime::detail {
void rtnRowsAvx2(const RtnView &, const float *, size_t, const float *, float *,
                 size_t, size_t) {
  throw RuntimeError(ErrorCode::Unsupported, "rtn: no AVX2 kernel here");
}
} // namespace qet::runtime::detail

#endif
