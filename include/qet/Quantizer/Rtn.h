//===- Rtn.h - Group-wise round-to-nearest quantization --------*- C++ -*-===//
//
// qem.md §5. Rows are cut into groups of `group` consecutive elements (the
// last may be shorter). `rtn` stores an fp16 minimum and scale per group and
// unsigned codes; `rtn-sym` stores an fp16 scale per group and signed codes
// covering all 2^bits levels. Rounding is half to even.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_RTN_H
#define QET_QUANTIZER_RTN_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Scheme.h"

#include <cstdint>
#include <vector>

namespace qet::quant {

struct RtnConfig {
  unsigned bits = 4;
  unsigned group = 128;
  bool symmetric = false;
};

/// Exact stored bits: n*d*bits + (32 or 16) * n * ceil(d / group).
uint64_t rtnStorageBits(size_t rows, size_t cols, const RtnConfig &config);

/// The largest bits in [1, 8] whose storage fits `bpe`; BudgetTooSmall if
/// even 1 bit does not.
unsigned rtnBitsForBudget(size_t rows, size_t cols, unsigned group,
                          bool symmetric, double bpe);

struct RtnEncoded {
  RtnConfig config;
  size_t rows = 0, cols = 0;
  /// One code per element: [0, 2^bits) or [-2^(bits-1), 2^(bits-1)).
  std::vector<int32_t> codes;
  /// rows x groups, fp16 values held in floats.
  std::vector<float> scales;
  std::vector<float> zeroPoints; // empty when symmetric

  size_t groupsPerRow() const;
};

/// Encodes `input`; Error on NaN/Inf input, bad config, or a scale or
/// minimum that fp16 cannot hold.
RtnEncoded rtnEncode(const Matrix &input, const RtnConfig &config,
                     unsigned threads = 0);
/// x' = zero + code * scale (asymmetric) or code * scale, in fp32.
Matrix rtnDecode(const RtnEncoded &encoded);

/// Streams "codes" (two's complement in `bits` bits when symmetric),
/// "scales" and, when asymmetric, "zero_points" (fp16).
PackedMatrix rtnPack(const RtnEncoded &encoded);
RtnEncoded rtnUnpack(const PackedMatrix &packed);

/// The `rtn` / `rtn-sym` entry of the scheme table.
QuantizeResult quantizeRtn(const Matrix &input, const QuantizeOptions &options,
                           bool symmetric);

} // namespace qet::quant

#endif // QET_QUANTIZER_RTN_H
