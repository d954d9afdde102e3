//===- RowDecoder.cpp - Fused dequantize + matrix-vector product ----------===//

#include "qet/Quantizer/RowDecoder.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"
#include "qet/Quantizer/Parallel.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Qet.h"

#include <algorithm>
#include <string>

namespace qet::quant {

namespace {

/// Rows per parallel chunk: keeps thread start-up small against the work.
size_t minRowChunk(size_t cols) {
  return std::max<size_t>(1, (size_t{1} << 15) / std::max<size_t>(cols, 1));
}

} // namespace

FusedRowDecoder::FusedRowDecoder(const PackedMatrix &packed)
    : numRows(packed.rows), numCols(packed.cols) {
  auto fromPq = [](PqModel pq) {
    Part part;
    part.subspaces = pq.subspaces;
    part.centroids = pq.centroids;
    part.codebooks = std::move(pq.codebooks);
    part.codes = std::move(pq.codes);
    return part;
  };
  if (packed.scheme == "pq") {
    parts.push_back(fromPq(unpackPq(packed, packed.rows, packed.cols)));
  } else if (packed.scheme == "opq") {
    OpqModel opq = unpackOpq(packed, packed.rows, packed.cols);
    Part part = fromPq(std::move(opq.pq));
    part.rotation = std::move(opq.rotation);
    parts.push_back(std::move(part));
  } else if (packed.scheme == "lopq") {
    LopqModel lopq = unpackLopq(packed);
    for (size_t c = 0; c < lopq.parts.size(); ++c) {
      OpqModel &opq = lopq.parts[c];
      if (opq.pq.rows == 0)
        continue; // an empty cluster stores nothing
      Part part = fromPq(std::move(opq.pq));
      part.rotation = std::move(opq.rotation);
      for (size_t i = 0; i < lopq.labels.size(); ++i)
        if (lopq.labels[i] == c)
          part.rowIndex.push_back(static_cast<uint32_t>(i));
      if (part.rowIndex.size() * part.subspaces != part.codes.size())
        throw FormatError("lopq: cluster " + std::to_string(c) +
                          " has a code count that does not match its rows");
      parts.push_back(std::move(part));
    }
  } else if (packed.scheme == "hera" || packed.scheme == "qet") {
    QetModel model = unpackQet(packed);
    for (QetStage &stage : model.stages) {
      Part part = fromPq(std::move(stage.pq));
      part.swaps = std::move(stage.swaps);
      parts.push_back(std::move(part));
    }
  } else {
    throw Error("fused row decoding supports pq, opq, lopq, hera and qet, "
                "not '" + packed.scheme + "'");
  }
  for (const Part &part : parts)
    for (uint32_t code : part.codes)
      if (code >= part.centroids)
        throw FormatError("packed " + packed.scheme + " matrix: code " +
                          std::to_string(code) + " exceeds Ks = " +
                          std::to_string(part.centroids));
}

void FusedRowDecoder::addTablePart(const Part &part, const float *x, float *y,
                                   unsigned threads) const {
  const size_t d = numCols, m = part.subspaces, ks = part.centroids;
  const size_t ds = d / m;
  std::vector<float> rotated;
  if (!part.rotation.empty()) {
    // x' = R^T x: x'[j] = sum_i R[i][j] x[i], i ascending.
    rotated.assign(d, 0.0f);
    for (size_t i = 0; i < d; ++i) {
      const float *r = part.rotation.data() + i * d;
      for (size_t j = 0; j < d; ++j)
        rotated[j] += r[j] * x[i];
    }
    x = rotated.data();
  }
  // T[s][k] = <C_s[k], x_s>.
  std::vector<float> table(m * ks);
  parallelFor(
      0, m * ks, threads,
      [&](size_t begin, size_t end) {
        for (size_t e = begin; e < end; ++e) {
          const float *c = part.codebooks.data() + e * ds;
          const float *xs = x + (e / ks) * ds;
          float sum = 0.0f;
          for (size_t t = 0; t < ds; ++t)
            sum += c[t] * xs[t];
          table[e] = sum;
        }
      },
      minRowChunk(ds));
  const size_t partRows = part.codes.size() / m;
  parallelFor(
      0, partRows, threads,
      [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) {
          const uint32_t *code = part.codes.data() + i * m;
          float sum = 0.0f;
          for (size_t s = 0; s < m; ++s)
            sum += table[s * ks + code[s]];
          y[part.rowIndex.empty() ? i : part.rowIndex[i]] += sum;
        }
      },
      minRowChunk(m * 4));
}

void FusedRowDecoder::addGatherPart(const Part &part, const float *x, float *y,
                                    unsigned threads) const {
  const size_t d = numCols, m = part.subspaces, ks = part.centroids;
  const size_t ds = d / m;
  parallelFor(
      0, numRows, threads,
      [&](size_t begin, size_t end) {
        std::vector<float> gathered(d);
        SwapScratch scratch;
        for (size_t i = begin; i < end; ++i) {
          // x~ = x[pi_i]: the row's layers applied to x with its bits.
          std::copy(x, x + d, gathered.begin());
          applyRowSwaps(part.swaps, i, gathered.data(), scratch);
          const uint32_t *code = part.codes.data() + i * m;
          float sum = 0.0f;
          for (size_t s = 0; s < m; ++s) {
            const float *c = part.codebooks.data() + (s * ks + code[s]) * ds;
            const float *xs = gathered.data() + s * ds;
            for (size_t t = 0; t < ds; ++t)
              sum += c[t] * xs[t];
          }
          y[i] += sum;
        }
      },
      minRowChunk(d * (1 + part.swaps.depth)));
}

void FusedRowDecoder::multiply(const float *x, float *y,
                               unsigned threads) const {
  std::fill(y, y + numRows, 0.0f);
  for (const Part &part : parts) {
    if (part.swaps.depth > 0)
      addGatherPart(part, x, y, threads);
    else
      addTablePart(part, x, y, threads);
  }
}

std::vector<float> FusedRowDecoder::multiply(const std::vector<float> &x,
                                             unsigned threads) const {
  if (x.size() != numCols)
    throw Error("fused row decoding: x has " + std::to_string(x.size()) +
                " values, the matrix " + std::to_string(numCols) + " columns");
  std::vector<float> y(numRows);
  multiply(x.data(), y.data(), threads);
  return y;
}

} // namespace qet::quant
