//===- QjlTensor.cpp - `qjl` key tensors ----------------------------------===//
//
// A `qjl` tensor is a sketched key matrix (tokens x d, qjlPackKeys). Its
// W x is the estimated <x, k_t> of every token, i.e. the score kernel with
// the batch as query heads; dequantize gives k_hat, whose inner products
// are the same estimates (what the quantizer's dequantize() returns). S is
// regenerated from the stored seed once, at bind time.
//
//===----------------------------------------------------------------------===//

#include "Bindings.h"
#include "QjlKernel.h"

#include "qet/Quantizer/Error.h"

namespace qet::runtime {

namespace {

class QjlTensor final : public PackedTensor {
public:
  QjlTensor(size_t rows, size_t cols, const quant::QjlConfig &config,
            const QjlKeysView &keys)
      : PackedTensor(rows, cols), config(config), keys(keys),
        s(quant::makeJlMatrix(cols, config.sketch, config.kind, config.seed)) {}

  void dequantize(float *out) const override {
    qjlImpliedKeys(config, s, keys, out);
  }
  void multiply(const float *x, size_t batch, float *y) const override {
    qjlScoreKernel(config, s, keys, x, batch, y, activeKernelPath(),
                   kernelThreads());
  }

private:
  quant::QjlConfig config;
  QjlKeysView keys;
  quant::JlMatrix s;
};

} // namespace

std::unique_ptr<PackedTensor> bindQjl(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  const uint64_t n = info.rows;
  const int64_t d = reader.param("d", 8, 65536);
  if (uint64_t(d) != info.cols)
    reader.fail("parameter 'd' = " + std::to_string(d) + " differs from the " +
                std::to_string(info.cols) + " columns");
  quant::QjlConfig config;
  config.sketch = static_cast<unsigned>(reader.param("m", 8, 65536));
  // S is d x m fp32, regenerated at bind time: keep it below 1 GiB.
  if (uint64_t(d) * config.sketch > (uint64_t{1} << 28))
    reader.fail("d * m = " + std::to_string(uint64_t(d) * config.sketch) +
                " is too large for the JL matrix");
  config.outlierSketch =
      static_cast<unsigned>(reader.param("m_o", 0, config.sketch));
  config.outliers = static_cast<unsigned>(reader.param("outliers", 0, d - 1));
  config.groupTokens =
      static_cast<unsigned>(reader.param("group_tokens", 1, INT32_MAX));
  config.kind = reader.param("orthogonal", 0, 1) ? quant::JlKind::Orthogonal
                                                 : quant::JlKind::Gaussian;
  config.seed =
      static_cast<uint64_t>(reader.param("seed", INT64_MIN, INT64_MAX));
  try {
    quant::validateQjlConfig(config, info.cols);
  } catch (const quant::Error &e) {
    reader.fail(e.what());
  }
  QjlKeysView keys;
  keys.tokens = n;
  keys.signs = reader.bytes("signs", 1, n * config.sketch);
  keys.norms = reader.halfArray("norms", n);
  if (config.hasOutliers()) {
    keys.outlierSigns =
        reader.bytes("outlier_signs", 1, n * config.outlierSketch);
    keys.outlierNorms = reader.halfArray("outlier_norms", n);
    keys.idBits = info.cols <= 256 ? 8 : 16;
    const uint64_t groups = (n + config.groupTokens - 1) / config.groupTokens;
    const uint64_t count = groups * config.outliers;
    keys.ids = reader.bytes("outlier_ids", keys.idBits, count);
    keys.idBytes = reader.section("outlier_ids").size;
    for (uint64_t g = 0; g < groups; ++g)
      for (size_t i = 0; i < config.outliers; ++i)
        if (keys.id(g, i, config.outliers) >= info.cols)
          reader.fail("section 'outlier_ids': channel id " +
                      std::to_string(keys.id(g, i, config.outliers)) +
                      " of token group " + std::to_string(g) +
                      " is not below d = " + std::to_string(info.cols));
  }
  return std::make_unique<QjlTensor>(info.rows, info.cols, config, keys);
}

} // namespace qet::runtime
