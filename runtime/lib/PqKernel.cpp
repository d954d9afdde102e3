//===- PqKernel.cpp - Product-quantized parts read in place ---------------===//

#include "PqKernel.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Parallel.h"
#include "qet/Quantizer/Qet.h"

#include <algorithm>

namespace qet::runtime {

namespace {

/// Chunks of at least ~32K multiply-adds per thread.
size_t minChunk(size_t workPerItem) {
  return std::max<size_t>(1,
                          (size_t{1} << 15) / std::max<size_t>(1, workPerItem));
}

/// x'[j] = sum_i R[i][j] x[i], i ascending, for a d x d R.
void rotate(const FloatSection &rotation, size_t d, const float *x,
            float *out) {
  std::fill(out, out + d, 0.0f);
  std::vector<float> row(rotation.type == ElementType::F32 ? 0 : d);
  for (size_t i = 0; i < d; ++i) {
    const float *r;
    if (rotation.type == ElementType::F32) {
      r = reinterpret_cast<const float *>(rotation.bytes) + i * d;
      // Sections are 64-byte aligned; read through memcpy otherwise.
      if (reinterpret_cast<uintptr_t>(r) % alignof(float)) {
        row.resize(d);
        rotation.read(uint64_t(i) * d, d, row.data());
        r = row.data();
      }
    } else {
      rotation.read(uint64_t(i) * d, d, row.data());
      r = row.data();
    }
    const float xi = x[i];
    for (size_t j = 0; j < d; ++j)
      out[j] += r[j] * xi;
  }
}

} // namespace

void CodebookView::codeword(size_t s, size_t k, float *out) const {
  const uint64_t first = (uint64_t(s) * centroids + k) * subDim;
  if (!levels) {
    floats.read(first, subDim, out);
    return;
  }
  for (size_t t = 0; t < subDim; ++t)
    out[t] = quant::dequantizeCodebookLevel(
        readField(levels, levelBytes, first + t, levelBits), lo, step);
}

std::vector<float> CodebookView::expand() const {
  std::vector<float> all(subspaces * centroids * subDim);
  for (size_t s = 0; s < subspaces; ++s)
    for (size_t k = 0; k < centroids; ++k)
      codeword(s, k, all.data() + (s * centroids + k) * subDim);
  return all;
}

void checkCodes(const TensorReader &reader, const std::string &section,
                const CodesView &codes, uint64_t count, size_t centroids) {
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t code = readField(codes.bytes, codes.size, i, codes.width);
    if (code >= centroids)
      reader.fail("section '" + section + "': code " + std::to_string(code) +
                  " at field " + std::to_string(i) +
                  " is not below Ks = " + std::to_string(centroids));
  }
}

PqPart bindPqPart(const TensorReader &reader, const std::string &prefix,
                  size_t rows) {
  const size_t cols = reader.info().cols;
  const std::string codebooksName = prefix + "codebooks";
  const std::string codesName = prefix + "codes";
  const SectionInfo &codebooks = reader.section(codebooksName);
  const SectionInfo &codes = reader.section(codesName);
  if (rows == 0 || cols == 0 || codebooks.count % cols || codes.count % rows)
    reader.fail("sections '" + codebooksName + "' (" +
                std::to_string(codebooks.count) + " values) and '" + codesName +
                "' (" + std::to_string(codes.count) + " codes) do not fit " +
                std::to_string(rows) + " rows of " + std::to_string(cols));
  PqPart part;
  part.rows = rows;
  CodebookView &book = part.codebook;
  book.centroids = codebooks.count / cols;
  book.subspaces = codes.count / rows;
  if (book.subspaces == 0 || cols % book.subspaces ||
      codes.bitsEach != quant::indexBits(book.centroids))
    reader.fail("sections '" + codebooksName + "' and '" + codesName +
                "' are inconsistent: Ks = " + std::to_string(book.centroids) +
                ", M = " + std::to_string(book.subspaces) + ", " +
                std::to_string(codes.bitsEach) + "-bit codes");
  book.subDim = cols / book.subspaces;
  book.floats = reader.floats(codebooksName, codebooks.count);
  part.codes = {reader.bytes(codesName, codes.bitsEach, codes.count),
                codes.size, codes.bitsEach};
  checkCodes(reader, codesName, part.codes, codes.count, book.centroids);
  return part;
}

void decodePqRows(const PqPart &part, size_t cols, float *out) {
  const CodebookView &book = part.codebook;
  const size_t m = book.subspaces, ds = book.subDim;
  for (size_t i = 0; i < part.rows; ++i) {
    FieldCursor code(part.codes.bytes, part.codes.size, uint64_t(i) * m,
                     part.codes.width);
    for (size_t s = 0; s < m; ++s)
      book.codeword(s, code.next(), out + i * cols + s * ds);
  }
}

void addTableProducts(const PqPart &part, size_t cols, const float *x,
                      size_t batch, size_t outRows, float *y,
                      unsigned threads) {
  const CodebookView &book = part.codebook;
  const size_t m = book.subspaces, ks = book.centroids, ds = book.subDim;
  std::vector<float> rotated;
  if (part.rotated) {
    rotated.resize(batch * cols);
    for (size_t b = 0; b < batch; ++b)
      rotate(part.rotation, cols, x + b * cols, rotated.data() + b * cols);
    x = rotated.data();
  }
  // table[b][s * Ks + k] = <C_s[k], x_b restricted to subspace s>.
  const size_t entries = m * ks;
  std::vector<float> table(batch * entries);
  quant::parallelFor(
      0, entries, threads,
      [&](size_t lo, size_t hi) {
        std::vector<float> buffer(ds);
        const bool direct =
            !book.levels && book.floats.type == ElementType::F32 &&
            reinterpret_cast<uintptr_t>(book.floats.bytes) % alignof(float) ==
                0;
        for (size_t e = lo; e < hi; ++e) {
          const size_t s = e / ks;
          // fp32 codewords are used where they lie; others are decoded.
          const float *word = buffer.data();
          if (direct)
            word = reinterpret_cast<const float *>(book.floats.bytes) + e * ds;
          else
            book.codeword(s, e % ks, buffer.data());
          for (size_t b = 0; b < batch; ++b)
            table[b * entries + e] = dot(word, x + b * cols + s * ds, ds);
        }
      },
      minChunk(ds * batch));
  // Rows in blocks of 64: a block's codes are decoded once, then the
  // tables are walked in slices of subspaces small enough to stay in L2
  // (together for all batch items), each slice's lookups added to the
  // block's partial sums. Lookups then miss L2 only at slice changes, not
  // at random as over whole tables.
  constexpr size_t kRowBlock = 64;
  const size_t slice = std::max<size_t>(1, (size_t{1} << 15) / (ks * batch));
  const size_t blocks = (part.rows + kRowBlock - 1) / kRowBlock;
  quant::parallelFor(
      0, blocks, threads,
      [&](size_t blockLo, size_t blockHi) {
        std::vector<uint32_t> codes(kRowBlock * m);
        std::vector<float> partial(batch * kRowBlock);
        for (size_t block = blockLo; block < blockHi; ++block) {
          const size_t first = block * kRowBlock;
          const size_t count = std::min(kRowBlock, part.rows - first);
          readFields(part.codes.bytes, part.codes.size, uint64_t(first) * m,
                     count * m, part.codes.width, codes.data());
          std::fill(partial.begin(), partial.end(), 0.0f);
          for (size_t s0 = 0; s0 < m; s0 += slice) {
            const size_t s1 = std::min(m, s0 + slice);
            for (size_t b = 0; b < batch; ++b) {
              const float *t = table.data() + b * entries;
              for (size_t i = 0; i < count; ++i) {
                const uint32_t *code = codes.data() + i * m;
                // Four partial sums: lookups do not wait on one add chain.
                float sum[4] = {};
                size_t s = s0;
                for (; s + 4 <= s1; s += 4)
                  for (unsigned l = 0; l < 4; ++l)
                    sum[l] += t[(s + l) * ks + code[s + l]];
                for (; s < s1; ++s)
                  sum[s & 3] += t[s * ks + code[s]];
                partial[b * kRowBlock + i] +=
                    (sum[0] + sum[2]) + (sum[1] + sum[3]);
              }
            }
          }
          for (size_t b = 0; b < batch; ++b)
            for (size_t i = 0; i < count; ++i)
              y[b * outRows + part.outputRow(first + i)] +=
                  partial[b * kRowBlock + i];
        }
      },
      minChunk(kRowBlock * m * batch));
}

} // namespace qet::runtime
