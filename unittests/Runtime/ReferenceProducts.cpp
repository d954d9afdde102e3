//===- ReferenceProducts.cpp - fp64 products and their error bounds -------===//

#include "ReferenceProducts.h"

#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Qet.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/Quantizer/Rtn.h"
#include "qet/Quantizer/Vptq.h"

#include <cmath>

namespace qet::test {

using namespace quant;

namespace {

constexpr double kRelative = 1e-5;

/// sum_j |w_ij x_j| per row.
std::vector<double> absoluteTerms(const Matrix &w, const float *x) {
  std::vector<double> out(w.rows, 0.0);
  for (size_t i = 0; i < w.rows; ++i)
    for (size_t j = 0; j < w.cols; ++j)
      out[i] += std::fabs(double(w.at(i, j)) * x[j]);
  return out;
}

std::vector<double> rtnTerms(const PackedMatrix &packed, const float *x) {
  RtnEncoded e = rtnUnpack(packed);
  const size_t groups = e.groupsPerRow();
  std::vector<double> out(e.rows, 0.0);
  for (size_t i = 0; i < e.rows; ++i)
    for (size_t j = 0; j < e.cols; ++j) {
      size_t g = i * groups + j / e.config.group;
      double term = std::fabs(double(e.codes[i * e.cols + j]) * e.scales[g]);
      if (!e.config.symmetric)
        term += std::fabs(e.zeroPoints[g]); // zero times the group sum of x
      out[i] += term * std::fabs(x[j]);
    }
  return out;
}

/// Rows `rows` of out get sum_j |c_ij| (|x'_j| + sum_k |R_kj x_k|), c the
/// unrotated PQ rows and x' = R^T x.
void addRotatedTerms(const OpqModel &model, const float *x,
                     const std::vector<size_t> &rows,
                     std::vector<double> &out) {
  const size_t d = model.pq.cols;
  std::vector<double> rotated(d, 0.0), spread(d, 0.0);
  for (size_t k = 0; k < d; ++k)
    for (size_t j = 0; j < d; ++j) {
      double term = double(model.rotation[k * d + j]) * x[k];
      rotated[j] += term;
      spread[j] += std::fabs(term);
    }
  Matrix c = decodePq(model.pq);
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t j = 0; j < d; ++j)
      out[rows[i]] +=
          std::fabs(c.at(i, j)) * (std::fabs(rotated[j]) + spread[j]);
}

std::vector<double> opqTerms(const PackedMatrix &packed, const float *x) {
  std::vector<double> out(packed.rows, 0.0);
  std::vector<size_t> rows(packed.rows);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = i;
  addRotatedTerms(unpackOpq(packed, packed.rows, packed.cols), x, rows, out);
  return out;
}

std::vector<double> lopqTerms(const PackedMatrix &packed, const float *x) {
  LopqModel model = unpackLopq(packed);
  std::vector<double> out(packed.rows, 0.0);
  for (size_t c = 0; c < model.clusters; ++c) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < model.labels.size(); ++i)
      if (model.labels[i] == c)
        rows.push_back(i);
    if (!rows.empty())
      addRotatedTerms(model.parts[c], x, rows, out);
  }
  return out;
}

std::vector<double> qetTerms(const PackedMatrix &packed, const float *x) {
  QetModel model = unpackQet(packed);
  std::vector<double> out(packed.rows, 0.0);
  for (size_t s = 0; s < model.stages.size(); ++s) {
    std::vector<double> stage = absoluteTerms(decodeQetStage(model, s), x);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] += stage[i];
  }
  return out;
}

std::vector<double> vptqTerms(const PackedMatrix &packed, const Matrix &w,
                              const float *x) {
  VptqEncoded e = vptqUnpack(packed);
  std::vector<double> out = absoluteTerms(w, x);
  if (e.normalize) // q s x_j and beta = sum_j x_j b_j: |w| + 2 |b| covers both
    for (size_t i = 0; i < w.rows; ++i)
      for (size_t j = 0; j < w.cols; ++j)
        out[i] += 2 * std::fabs(double(e.bias[j]) * x[j]);
  return out;
}

std::vector<double> qjlTerms(const PackedMatrix &packed, const Matrix &w,
                             const float *x) {
  QjlKeys keys = qjlUnpackKeys(packed);
  const QjlConfig &c = keys.config;
  JlMatrix s = makeJlMatrix(keys.dim, c.sketch, c.kind, c.seed);
  // x_j = sum_c S[j][c] q_c over all channels, and y over the outliers.
  double all = 0.0;
  for (size_t j = 0; j < c.sketch; ++j)
    for (size_t ch = 0; ch < keys.dim; ++ch)
      all += std::fabs(double(s.at(j, ch)) * x[ch]);
  std::vector<double> out = absoluteTerms(w, x);
  for (size_t t = 0; t < keys.tokens; ++t) {
    out[t] += keys.normIn[t] / (c.sketch * s.kappa) * all;
    if (!c.hasOutliers())
      continue;
    double outlier = 0.0;
    const uint16_t *ids =
        keys.outlierIds.data() + (t / c.groupTokens) * c.outliers;
    for (size_t j = 0; j < c.outlierSketch; ++j)
      for (size_t i = 0; i < c.outliers; ++i)
        outlier += std::fabs(double(s.at(j, ids[i])) * x[ids[i]]);
    out[t] += keys.normOut[t] / (c.outlierSketch * s.kappa) * outlier;
  }
  return out;
}

} // namespace

std::vector<double> referenceProduct(const Matrix &w, const float *x) {
  std::vector<double> y(w.rows, 0.0);
  for (size_t i = 0; i < w.rows; ++i)
    for (size_t j = 0; j < w.cols; ++j)
      y[i] += double(w.at(i, j)) * x[j];
  return y;
}

std::vector<double> productTolerance(const PackedMatrix &packed,
                                     const Matrix &w, const float *x) {
  std::vector<double> terms;
  const std::string &scheme = packed.scheme;
  if (scheme == "rtn" || scheme == "rtn-sym")
    terms = rtnTerms(packed, x);
  else if (scheme == "opq")
    terms = opqTerms(packed, x);
  else if (scheme == "lopq")
    terms = lopqTerms(packed, x);
  else if (scheme == "hera" || scheme == "qet")
    terms = qetTerms(packed, x);
  else if (scheme == "vptq")
    terms = vptqTerms(packed, w, x);
  else if (scheme == "qjl")
    terms = qjlTerms(packed, w, x);
  else
    terms = absoluteTerms(w, x);
  for (double &t : terms)
    t = kRelative * t + 1e-30;
  return terms;
}

} // namespace qet::test
