//===- QjlKernel.h - QJL scores and attention on packed buffers -*- C++ -*-===//
//
// qjl.md §4, §7, §8 on plain pointers: the same code serves `qjl` tensors
// (sections of a mapped container) and the C API's caller buffers. The
// arithmetic follows the quantizer library step for step (QjlScore.cpp,
// QjlAttention.cpp, KiviValues.cpp), so scores and attention outputs are
// bit-identical to qjlScores and QjlCache::attend: x = S q in fp32 with
// channels ascending, sign-select sums in 8 lanes reduced as ((l0+l4)+(l2+
// l6))+((l1+l5)+(l3+l7)), then n_in/(m kappa) (2 sel - sum x) and the
// outlier term. The AVX2 select kernel only adds masked lanes, in that
// order, so both paths agree bit for bit.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_QJLKERNEL_H
#define QET_RUNTIME_LIB_QJLKERNEL_H

#include "qet/Quantizer/Qjl.h"
#include "qet/runtime/KernelConfig.h"

#include <cstddef>
#include <cstdint>

namespace qet::runtime {

/// Sketched keys in place (qjl.md §3): token t's m sign bits at signs + t *
/// m/8, fp16 norms; with outliers, m_o bits at outlierSigns + t * m_o/8, fp16
/// outlier norms and per token group |O| channel ids of idBits (8 or 16)
/// bits.
struct QjlKeysView {
  size_t tokens = 0;
  const uint8_t *signs = nullptr;
  const uint16_t *norms = nullptr;
  const uint8_t *outlierSigns = nullptr;
  const uint16_t *outlierNorms = nullptr;
  const uint8_t *ids = nullptr;
  uint64_t idBytes = 0;
  unsigned idBits = 16;

  uint32_t id(size_t group, size_t i, size_t outliers) const;
};

/// KIVI values (qjl.md §5): per token d * bits / 8 code bytes, d / group
/// fp16 scales and minimums.
struct KiviView {
  size_t tokens = 0;
  unsigned bits = 2;
  size_t group = 32;
  const uint8_t *codes = nullptr;
  const uint16_t *scales = nullptr;
  const uint16_t *mins = nullptr;
};

/// scores[h * tokens + t] for heads x d queries; S matches config and dim.
void qjlScoreKernel(const quant::QjlConfig &config, const quant::JlMatrix &s,
                    const QjlKeysView &keys, const float *queries, size_t heads,
                    float *scores, KernelPath path, unsigned threads);

/// k_hat (tokens x d) as qjlImpliedKeys computes it (fp64, bit for bit).
void qjlImpliedKeys(const quant::QjlConfig &config, const quant::JlMatrix &s,
                    const QjlKeysView &keys, float *out);

/// One decode step as QjlCache::attend: `keys` then `tailTokens` fp16 keys;
/// `values` then `windowTokens` fp16 values; out is heads x d.
void qjlAttentionKernel(const quant::QjlConfig &config,
                        const quant::JlMatrix &s, const QjlKeysView &keys,
                        const uint16_t *keyTail, size_t tailTokens,
                        const KiviView &values, const uint16_t *valueWindow,
                        size_t windowTokens, const float *queries, size_t heads,
                        float *out, KernelPath path, unsigned threads);

namespace detail {
/// sel[t] = the select sum of bit row t (rows `stride` bytes apart, `bytes`
/// bytes used) against x, for `count` rows.
void selectSumsPortable(const uint8_t *bits, size_t stride, size_t bytes,
                        size_t count, const float *x, float *sel);
void selectSumsAvx2(const uint8_t *bits, size_t stride, size_t bytes,
                    size_t count, const float *x, float *sel);
} // namespace detail

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_QJLKERNEL_H
