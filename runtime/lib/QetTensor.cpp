//===- QetTensor.cpp - `hera` and `qet` tensors ---------------------------===//
//
// W = the sum of the stages, each a PQ part of all rows seen through the
// row's swap tree (qet.md, Qet.cpp). Products: a stage of depth 0 takes the
// table path; a deeper stage decodes one row at a time (codewords, then
// the row's inverse tree), dots it with every x and moves on, so at most
// one row of a stage exists in fp32 at a time.
//
//===----------------------------------------------------------------------===//

#include "Bindings.h"
#include "PqKernel.h"
#include "SwapRows.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Parallel.h"
#include "qet/Quantizer/Qet.h"
#include "qet/runtime/KernelConfig.h"

#include <algorithm>
#include <cstring>

namespace qet::runtime {

namespace {

struct Stage {
  PqPart part;
  SwapView swaps; // depth 0: no tree
};

class QetTensor final : public PackedTensor {
public:
  QetTensor(size_t rows, size_t cols, std::vector<Stage> stages)
      : PackedTensor(rows, cols), stages(std::move(stages)) {}

  void dequantize(float *out) const override {
    const size_t d = cols();
    std::fill(out, out + rows() * d, 0.0f);
    // Stage sums in stage order, as decodeQet adds its stage matrices.
    quant::parallelFor(
        0, rows(), kernelThreads(),
        [&](size_t lo, size_t hi) {
          std::vector<float> row(d), scratch(d);
          const KernelPath path = activeKernelPath();
          for (const Stage &stage : stages)
            for (size_t i = lo; i < hi; ++i) {
              decodeRow(stage, i, row.data(), scratch.data(), path);
              float *o = out + i * d;
              for (size_t c = 0; c < d; ++c)
                o[c] += row[c];
            }
        },
        std::max<size_t>(1, 4096 / std::max<size_t>(d, 1)));
  }

  void multiply(const float *x, size_t batch, float *y) const override {
    std::fill(y, y + batch * rows(), 0.0f);
    for (const Stage &stage : stages) {
      if (stage.swaps.depth == 0)
        addTableProducts(stage.part, cols(), x, batch, rows(), y,
                         kernelThreads());
      else
        addGatherProducts(stage, x, batch, y);
    }
  }

private:
  /// Row i of the stage: its codewords with the row's tree undone (exact,
  /// as the quantizer decodes it).
  void decodeRow(const Stage &stage, size_t i, float *row, float *scratch,
                 KernelPath path) const {
    const CodebookView &cb = stage.part.codebook;
    const size_t m = cb.subspaces, ds = cb.subDim;
    FieldCursor code(stage.part.codes.bytes, stage.part.codes.size,
                     uint64_t(i) * m, stage.part.codes.width);
    for (size_t s = 0; s < m; ++s)
      cb.codeword(s, code.next(), row + s * ds);
    if (stage.swaps.depth)
      undoRowSwaps(stage.swaps, i, cols(), row, scratch, path);
  }

  void addGatherProducts(const Stage &stage, const float *x, size_t batch,
                         float *y) const {
    const size_t d = cols();
    const CodebookView &cb = stage.part.codebook;
    const size_t m = cb.subspaces, ds = cb.subDim;
    // Codewords are read once per row: expand them to fp32 once per call.
    const std::vector<float> book = cb.expand();
    const KernelPath path = activeKernelPath();
    auto rowDot = path == KernelPath::Avx2 ? dotAvx2 : dot;
    auto word = [&](size_t s, uint32_t k) {
      return book.data() + (s * cb.centroids + k) * ds;
    };
    quant::parallelFor(
        0, rows(), kernelThreads(),
        [&](size_t lo, size_t hi) {
          std::vector<float> row(d), scratch(d);
          std::vector<uint32_t> codes(m), next(m);
          // A row's codewords are random reads from the whole codebook:
          // the next row's are requested while this one is unswapped.
          auto fetch = [&](size_t i, uint32_t *out) {
            FieldCursor cursor(stage.part.codes.bytes, stage.part.codes.size,
                               uint64_t(i) * m, stage.part.codes.width);
            for (size_t s = 0; s < m; ++s) {
              out[s] = cursor.next();
              __builtin_prefetch(word(s, out[s]));
            }
          };
          fetch(lo, codes.data());
          for (size_t i = lo; i < hi; ++i) {
            if (i + 1 < hi)
              fetch(i + 1, next.data());
            for (size_t s = 0; s < m; ++s)
              copyFloats(row.data() + s * ds, word(s, codes[s]), ds);
            undoRowSwaps(stage.swaps, i, d, row.data(), scratch.data(), path);
            for (size_t b = 0; b < batch; ++b)
              y[b * rows() + i] += rowDot(row.data(), x + b * d, d);
            codes.swap(next);
          }
        },
        std::max<size_t>(
            1, (size_t{1} << 15) /
                   std::max<size_t>(1, d * (batch + stage.swaps.depth))));
  }

  std::vector<Stage> stages;
};

void bindSwaps(const TensorReader &reader, const std::string &prefix,
               unsigned depth, Stage &stage) {
  const uint64_t n = reader.info().rows, d = reader.info().cols;
  if (depth > 31 || d % (uint64_t{1} << depth))
    reader.fail("swap-tree depth " + std::to_string(depth) + " needs d = " +
                std::to_string(d) + " to be divisible by 2^depth");
  stage.swaps.depth = depth;
  if (depth) {
    const std::string name = prefix + "swap_bits";
    stage.swaps.bits = reader.bytes(name, 1, n * depth * (d / 2));
    stage.swaps.size = reader.section(name).size;
  }
}

void requireShape(const TensorReader &reader, const PqPart &part, size_t m,
                  size_t ks, const std::string &prefix) {
  if (part.codebook.subspaces != m || part.codebook.centroids != ks)
    reader.fail("sections '" + prefix + "codebooks'/'" + prefix +
                "codes' do not match M = " + std::to_string(m) +
                ", Ks = " + std::to_string(ks));
}

/// A stage with a scalar-quantized codebook (b-bit levels, lo, step).
PqPart bindLevelPart(const TensorReader &reader, const std::string &prefix,
                     size_t m, size_t ks, unsigned bits) {
  const TensorInfo &info = reader.info();
  PqPart part;
  part.rows = info.rows;
  CodebookView &book = part.codebook;
  book.subspaces = m;
  book.centroids = ks;
  book.subDim = info.cols / m;
  book.levelBits = bits;
  const std::string levels = prefix + "codebook_levels";
  book.levels = reader.bytes(levels, bits, uint64_t(ks) * info.cols);
  book.levelBytes = reader.section(levels).size;
  book.lo = reader.floats(prefix + "codebook_lo", 1).at(0);
  book.step = reader.floats(prefix + "codebook_step", 1).at(0);
  const std::string codes = prefix + "codes";
  const unsigned width = quant::indexBits(ks);
  const uint64_t count = uint64_t(info.rows) * m;
  part.codes = {reader.bytes(codes, width, count), reader.section(codes).size,
                width};
  checkCodes(reader, codes, part.codes, count, ks);
  return part;
}

} // namespace

std::unique_ptr<PackedTensor> bindQet(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  const int64_t n = static_cast<int64_t>(info.rows);
  const int64_t d = static_cast<int64_t>(info.cols);
  if (n == 0 || d == 0)
    reader.fail("the matrix is empty");
  const size_t m = static_cast<size_t>(reader.param("M", 1, d));
  if (info.cols % m)
    reader.fail("M = " + std::to_string(m) +
                " does not divide d = " + std::to_string(d));
  std::vector<Stage> stages;
  if (info.scheme == "hera") {
    Stage stage;
    unsigned depth = static_cast<unsigned>(reader.param("depth", 0, 31));
    size_t ks = static_cast<size_t>(reader.param("Ks", 1, n));
    stage.part = bindPqPart(reader, "", info.rows);
    requireShape(reader, stage.part, m, ks, "");
    bindSwaps(reader, "", depth, stage);
    stages.push_back(std::move(stage));
  } else {
    size_t count = static_cast<size_t>(reader.param("stages", 1, 64));
    for (size_t s = 0; s < count; ++s) {
      const std::string prefix = quant::qetStagePrefix(s);
      Stage stage;
      unsigned depth =
          static_cast<unsigned>(reader.param(prefix + "depth", 0, 31));
      unsigned bits = static_cast<unsigned>(
          reader.param(prefix + "codebook_bits", 0, quant::kMaxCodebookBits));
      size_t ks = static_cast<size_t>(reader.param(prefix + "Ks", 1, n));
      if (bits == 0) {
        stage.part = bindPqPart(reader, prefix, info.rows);
        requireShape(reader, stage.part, m, ks, prefix);
      } else {
        stage.part = bindLevelPart(reader, prefix, m, ks, bits);
      }
      bindSwaps(reader, prefix, depth, stage);
      stages.push_back(std::move(stage));
    }
  }
  return std::make_unique<QetTensor>(info.rows, info.cols, std::move(stages));
}

} // namespace qet::runtime
