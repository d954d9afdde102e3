//===- Qjl.h - QJL key sketches and KIVI-style value quantization -*- C++ -*-===//
//
// The KV-cache scheme of specs/qjl.md. Keys are stored as 1-bit sign sketches
// of S k (S an m x d JL matrix) plus fp16 norms, optionally with per-token-group
// outlier channels that get their own sketch and norm; they are used only
// through the unbiased inner-product estimator (§4) and never reconstructed.
// Values are per-token asymmetric b-bit groups (§5). The newest tokens of both
// stay in fp16. Implementation files: QjlMatrix.cpp (§2), QjlKeys.cpp (§3),
// QjlScore.cpp (§4, §8), KiviValues.cpp (§5), QjlAttention.cpp (§6, §7),
// QjlScheme.cpp (the `qjl` scheme and the CLI's inner-product metrics).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_QJL_H
#define QET_QUANTIZER_QJL_H

#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qet::quant {

//===----------------------------------------------------------------------===//
// §2 The JL matrix
//===----------------------------------------------------------------------===//

enum class JlKind { Gaussian, Orthogonal };

/// "gaussian" / "orthogonal" (Error otherwise) and back.
JlKind parseJlKind(const std::string &name);
const char *jlKindName(JlKind kind);

/// The estimator constant: sqrt(2/pi) for Gaussian S; kappa_d =
/// sqrt(d) * E|u_1| (u uniform on S^{d-1}) for block-orthogonal S, which
/// makes that estimator exactly unbiased. Computed in fp64.
double jlKappa(JlKind kind, size_t dim);

/// S (m x d), held as S^T: d x m row-major fp32, so st[c * m + j] = S[j][c].
struct JlMatrix {
  JlKind kind = JlKind::Orthogonal;
  size_t dim = 0;    // d
  size_t sketch = 0; // m
  uint64_t seed = kDefaultSeed;
  double kappa = 0.0;
  std::vector<float> st;

  float at(size_t j, size_t c) const { return st[c * sketch + j]; }
};

/// Builds S in fp64 from Rng(seed)'s normal stream (row-major, block by block)
/// and rounds it to fp32. Orthogonal: rows in blocks of d (the last block may
/// be partial), each orthonormalized by modified Gram-Schmidt run twice and
/// scaled by sqrt(d). Error unless d and m are multiples of 8 (>= 8).
JlMatrix makeJlMatrix(size_t dim, size_t sketch, JlKind kind, uint64_t seed);

//===----------------------------------------------------------------------===//
// §3 Keys
//===----------------------------------------------------------------------===//

struct QjlConfig {
  /// m: sign bits per token (multiple of 8, >= 8).
  unsigned sketch = 256;
  /// |O|: outlier channels per token group (0 <= |O| < d).
  unsigned outliers = 0;
  /// m_o: outlier sign bits per token (0 or a multiple of 8, <= m). With
  /// |O| = 0 or m_o = 0 nothing outlier-related is stored (no outliers).
  unsigned outlierSketch = 0;
  /// G: tokens per outlier group (>= 1).
  unsigned groupTokens = 32;
  JlKind kind = JlKind::Orthogonal;
  uint64_t seed = kDefaultSeed;

  bool hasOutliers() const { return outliers > 0 && outlierSketch > 0; }
};

/// Throws Error naming the bad field for this head dimension.
void validateQjlConfig(const QjlConfig &config, size_t dim);

/// The quantized keys of one (sequence, KV head). Tokens are grouped in
/// groups of G from token 0; only the last group may be shorter.
struct QjlKeys {
  QjlConfig config;
  size_t dim = 0;
  size_t tokens = 0;
  /// tokens x m/8 bytes: bit j (byte j/8, bit j%8, LSB first) = s_j.k_in > 0.
  std::vector<uint8_t> signs;
  /// tokens x m_o/8 bytes: s_j.k_O > 0 for j < m_o (empty without outliers).
  std::vector<uint8_t> outlierSigns;
  /// ||k_in|| and ||k_O|| rounded to fp16 (normOut empty without outliers).
  std::vector<float> normIn, normOut;
  /// groups x |O| ascending channel ids (empty without outliers).
  std::vector<uint16_t> outlierIds;

  size_t groups() const;
  size_t signBytes() const { return config.sketch / 8; }
  size_t outlierSignBytes() const {
    return config.hasOutliers() ? config.outlierSketch / 8 : 0;
  }
  /// 8 if d <= 256, else 16.
  unsigned idBits() const { return dim <= 256 ? 8 : 16; }
  /// Exact stored bits (§6): per token m + m_o + 16 + 16 [outliers], plus
  /// |O| ids per group.
  uint64_t storageBits() const;
  /// The ledger entries (key_signs, key_outlier_signs, key_norms,
  /// key_outlier_norms, key_outlier_ids) with counts and widths.
  void addToLedger(Ledger &ledger) const;
};

/// Quantizes every row of `keys` (tokens x d). Error on NaN/Inf, a bad
/// config, a shape mismatch with S, or a norm that fp16 cannot hold. S must
/// be makeJlMatrix(d, m, config.kind, config.seed)'s (checked by shape/kind).
QjlKeys qjlQuantizeKeys(const Matrix &keys, const JlMatrix &s,
                        const QjlConfig &config, unsigned threads = 0);
/// Appends the rows of `block` to `keys`; keys.tokens must be a multiple of G
/// (so groups stay aligned).
void qjlAppendKeys(QjlKeys &keys, const Matrix &block, const JlMatrix &s,
                   unsigned threads = 0);

/// Streams "signs" (1 bit), "outlier_signs" (1 bit), "norms" (fp16),
/// "outlier_norms" (fp16), "outlier_ids" (8/16 bits); the last three and
/// outlier_signs only with outliers. Params carry d, m, m_o, |O|, G, kind,
/// seed (not charged; the one 64-bit seed per model is omitted, §6).
PackedMatrix qjlPackKeys(const QjlKeys &keys);
QjlKeys qjlUnpackKeys(const PackedMatrix &packed);

//===----------------------------------------------------------------------===//
// §4 Estimator, §8 score kernel
//===----------------------------------------------------------------------===//

/// The estimate of <q, k_t> in fp64 straight from the §4 formula (the
/// mathematical reference for the statistical tests).
double qjlEstimate(const QjlKeys &keys, const JlMatrix &s, const float *query,
                   size_t token);

/// k_hat with <q, k_hat> = the estimate for every q: n_in/(m kappa) S^T sigma
/// on inlier channels, n_O/(m_o kappa) S[:m_o]^T sigma' on the group's
/// outlier channels (§4). Not a reconstruction: its MSE is the key "MSE" of
/// §4, about (pi d/2 - 1)/m relative for Gaussian S.
Matrix qjlImpliedKeys(const QjlKeys &keys, const JlMatrix &s);

enum class QjlKernel {
  /// AVX2 when the CPU has it, else Scalar. Same results either way.
  Auto,
  /// Portable C++ with the kernel's exact float order.
  Scalar,
  /// 8-lane AVX2 sign select (Error if the CPU lacks AVX2).
  Avx2,
};

/// True when the AVX2 kernel can run here.
bool qjlHasAvx2();

/// Scores of `heads` query heads (rows of `queries`, heads x d, all sharing
/// this KV head: GQA) against every quantized token: scores[h * tokens + t].
/// Per head x = S q is computed once, per outlier group y = S_{:,O} q_O once;
/// each token then needs sum_j sigma_j x_j = 2 sum_{b_j = 1} x_j - sum_j x_j,
/// summed in 8 lanes (lane l takes rows j = 8i + l, in order of i) and
/// reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). Scalar and AVX2 kernels
/// follow this order, so they agree bit for bit; so do all thread counts.
void qjlScores(const QjlKeys &keys, const JlMatrix &s, const float *queries,
               size_t heads, float *scores, unsigned threads = 0,
               QjlKernel kernel = QjlKernel::Auto);

//===----------------------------------------------------------------------===//
// §5 Values (KIVI style, per token)
//===----------------------------------------------------------------------===//

struct KiviConfig {
  /// b in {1, 2, 4, 8}.
  unsigned bits = 2;
  /// g_v: channels per group, dividing d (0 = the largest of 32, 16, 8 that
  /// divides d).
  unsigned group = 0;
};

/// The group length used for width d (resolves 0); Error if it does not
/// divide d or b is not in {1, 2, 4, 8}.
unsigned kiviGroup(const KiviConfig &config, size_t dim);

struct KiviValues {
  KiviConfig config; // group resolved
  size_t dim = 0;
  size_t tokens = 0;
  /// tokens x d*b/8 bytes; element c of a token at bits [b c, b c + b).
  std::vector<uint8_t> codes;
  /// tokens x d/g_v fp16 values (held in floats).
  std::vector<float> mins, scales;

  uint64_t storageBits() const; // tokens * (b d + 32 d / g_v)
  void addToLedger(Ledger &ledger) const;
  uint32_t code(size_t token, size_t channel) const;
};

/// Per token and group: mn, mx in fp32, scale = (mx - mn)/(2^b - 1), stored
/// mn16 = fp16(mn), sc16 = fp16(scale); code = clamp(floor((v - mn16)/sc16 +
/// 0.5), 0, 2^b - 1), 0 when sc16 = 0. Error on NaN/Inf or fp16 overflow.
KiviValues kiviQuantizeValues(const Matrix &values, const KiviConfig &config,
                              unsigned threads = 0);
void kiviAppendValues(KiviValues &values, const Matrix &block,
                      unsigned threads = 0);
/// mn16 + code * sc16.
Matrix kiviDequantize(const KiviValues &values);

PackedMatrix kiviPackValues(const KiviValues &values);
KiviValues kiviUnpackValues(const PackedMatrix &packed);

/// out[c] += sum_t (p_t sc_t) code_{t,c} + sum_t p_t mn_t (per group) over
/// the quantized tokens, weights p[0 .. tokens), in fp32, tokens in order.
void kiviValueProduct(const KiviValues &values, const float *weights,
                      float *out);

//===----------------------------------------------------------------------===//
// §6, §7 The cache of one (layer, sequence, KV head) and a decode step
//===----------------------------------------------------------------------===//

struct QjlCacheConfig {
  QjlConfig keys;
  KiviConfig values;
  /// R: the fp16 key tail keeps R..R+G-1 tokens, the value window R (a
  /// multiple of G).
  unsigned residual = 128;
};

class QjlCache {
public:
  /// S must match (d, config.keys). Error on a bad config.
  QjlCache(size_t dim, const QjlCacheConfig &config, const JlMatrix &s);

  /// Appends one token (k, v of length d, rounded to fp16 in the windows).
  /// Flushes the oldest G tail keys when the tail reaches R + G; quantizes
  /// the oldest window value when the window exceeds R.
  void append(const float *key, const float *value);
  /// Appends every row of K and V (prefill), like append() row by row.
  void appendAll(const Matrix &keys, const Matrix &values);

  size_t tokens() const { return total; }
  size_t quantizedKeys() const { return keys.tokens; }
  size_t quantizedValues() const { return values.tokens; }

  /// One decode step for `heads` query heads (heads x d) sharing this KV
  /// head: x = S q once, scores from packed keys, exact fp32 <q,k> for the
  /// tail, logits score/sqrt(d), fp32 softmax with max subtraction, value
  /// product from packed values plus the fp16 window. Returns heads x d.
  Matrix attend(const Matrix &queries, unsigned threads = 0,
                QjlKernel kernel = QjlKernel::Auto) const;
  /// The logits (heads x tokens) attend() uses.
  Matrix logits(const Matrix &queries, unsigned threads = 0,
                QjlKernel kernel = QjlKernel::Auto) const;

  /// Every stored bit: packed keys, fp16 key tail, packed values, fp16
  /// value window.
  Ledger ledger() const;
  uint64_t keyBits() const;
  uint64_t valueBits() const;
  /// keyBits / (n d), valueBits / (n d); 0 for an empty cache.
  double keyBitsPerElement() const;
  double valueBitsPerElement() const;

  const QjlKeys &packedKeys() const { return keys; }
  const KiviValues &packedValues() const { return values; }

private:
  size_t dim;
  QjlCacheConfig config;
  const JlMatrix &s;
  size_t total = 0;
  QjlKeys keys;
  KiviValues values;
  std::vector<float> keyTail;     // fp16 values, row-major, oldest first
  std::vector<float> valueWindow; // fp16 values, row-major, oldest first
};

/// Exact fp64 attention of `queries` (heads x d) over K, V (n x d):
/// softmax(q K^T / sqrt(d)) V. The reference for accuracy measurements.
Matrix exactAttention(const Matrix &queries, const Matrix &keys,
                      const Matrix &values);

//===----------------------------------------------------------------------===//
// The `qjl` scheme and key inner-product metrics
//===----------------------------------------------------------------------===//

/// The `qjl` entry of the scheme table: every row of a key matrix (tokens x
/// d) is quantized (no fp16 window; the last token group may be shorter),
/// options.sketch (0 = 256, or with a budget the largest multiple of 8 that
/// fits) / outliers / outlierSketch (0 = sketch) / groupTokens / jlMatrix /
/// seed. `reconstruction` holds qjlImpliedKeys (k_hat), so the
/// reported mse is the k_hat MSE of §4, not a reconstruction error, and
/// <q, k_hat> equals the estimator. A positive options.bpe is checked as an
/// upper bound (BudgetTooSmall); 0 means no budget.
QuantizeResult quantizeQjl(const Matrix &input, const QuantizeOptions &options);
/// The decoder of a packed `qjl` matrix (for dequantize()): k_hat, from the
/// packed streams and params alone (S is regenerated from the seed).
Matrix qjlDecodeImpliedKeys(const PackedMatrix &packed);

struct InnerProductStats {
  /// Mean over all (query, key) pairs of (est - <q,k>)^2.
  double mse = 0.0;
  /// mse / mean of <q,k>^2 (0 when that mean is 0).
  double rel = 0.0;
};

/// ip_mse and ip_rel of a scheme's result on `keys`: for `qjl` the
/// estimates come from the packed form through qjlScores, for every other
/// scheme they are <q, reconstruction>. Accumulated in fp64.
InnerProductStats keyInnerProductStats(const Matrix &keys,
                                       const QuantizeResult &result,
                                       const Matrix &queries,
                                       unsigned threads = 0);

} // namespace qet::quant

#endif // QET_QUANTIZER_QJL_H
