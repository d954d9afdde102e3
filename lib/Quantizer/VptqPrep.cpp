//===- VptqPrep.cpp - Calibration Hessians and VPTQ preparation -----------===//
//
// vptq.md §2 in fp64: normalize H by its mean diagonal (the metric H_m), dead
// columns, optional per-column normalization, damping, stable act-order
// permutation, extra damping, and U = upper Cholesky factor of H^-1.
//
// U without forming H^-1 twice: with J the reversal permutation, Cholesky of
// J H J = L L^T gives H = V V^T with V = J L J upper triangular, so
// H^-1 = V^-T V^-1 and U = V^-1 (upper, positive diagonal, hence the unique
// upper Cholesky factor of H^-1). One factorization plus one triangular
// inverse.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Vptq.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Parallel.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace qet::quant {

namespace {
using RowMajorD =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string shape(size_t r, size_t c) {
  return std::to_string(r) + "x" + std::to_string(c);
}
} // namespace

//===----------------------------------------------------------------------===//
// Hessian inputs
//===----------------------------------------------------------------------===//

HessianAccumulator::HessianAccumulator(size_t n) : n(n), sum(n * n, 0.0) {
  if (n == 0)
    throw Error("Hessian accumulator: width must be at least 1");
}

void HessianAccumulator::add(const Matrix &activations) {
  if (activations.cols != n)
    throw Error("Hessian accumulator: activations have " +
                std::to_string(activations.cols) + " columns, expected " +
                std::to_string(n));
  requireFinite(activations, "calibration activations");
  for (size_t t = 0; t < activations.rows; ++t) {
    const float *x = activations.row(t);
    for (size_t i = 0; i < n; ++i) {
      double xi = x[i];
      if (xi == 0.0)
        continue;
      double *row = sum.data() + i * n;
      for (size_t j = i; j < n; ++j)
        row[j] += xi * double(x[j]);
    }
  }
  tokens += activations.rows;
}

CalibrationHessian HessianAccumulator::finish() const {
  if (tokens == 0)
    throw Error("Hessian accumulator: no activation rows were added");
  CalibrationHessian h;
  h.n = n;
  h.values.assign(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j)
      h.values[i * n + j] = h.values[j * n + i] = sum[i * n + j] / double(tokens);
  return h;
}

CalibrationHessian hessianFromActivations(const Matrix &activations) {
  HessianAccumulator acc(activations.cols);
  acc.add(activations);
  return acc.finish();
}

CalibrationHessian hessianFromCovariance(const Matrix &covariance,
                                         const std::vector<double> &mean) {
  size_t n = covariance.rows;
  if (covariance.cols != n || mean.size() != n)
    throw Error("Hessian from covariance: covariance " +
                shape(covariance.rows, covariance.cols) + " and mean of " +
                std::to_string(mean.size()) + " do not match");
  requireFinite(covariance, "covariance");
  CalibrationHessian h;
  h.n = n;
  h.values.resize(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      h.values[i * n + j] = double(covariance.at(i, j)) + mean[i] * mean[j];
  return h;
}

CalibrationHessian hessianFromMatrix(const Matrix &m) {
  requireFinite(m, "Hessian/activation matrix");
  if (m.rows == m.cols && m.rows > 0) {
    double scale = 0.0;
    for (float v : m.values)
      scale = std::max(scale, double(std::fabs(v)));
    bool symmetric = true;
    for (size_t i = 0; i < m.rows && symmetric; ++i)
      for (size_t j = i + 1; j < m.cols; ++j)
        if (std::fabs(double(m.at(i, j)) - m.at(j, i)) > 1e-6 * scale) {
          symmetric = false;
          break;
        }
    if (symmetric) {
      CalibrationHessian h;
      h.n = m.rows;
      h.values.resize(m.size());
      for (size_t i = 0; i < m.rows; ++i)
        for (size_t j = 0; j < m.cols; ++j) // exact symmetrization
          h.values[i * m.cols + j] = 0.5 * (double(m.at(i, j)) + m.at(j, i));
      return h;
    }
  }
  return hessianFromActivations(m);
}

CalibrationHessian loadCalibrationHessian(const std::string &path) {
  return hessianFromMatrix(readMatrix(path));
}

ProxyError hessianProxyError(const Matrix &w, const Matrix &approx,
                             const CalibrationHessian *h, unsigned threads) {
  if (w.rows != approx.rows || w.cols != approx.cols)
    throw Error("proxy error: shapes " + shape(w.rows, w.cols) + " and " +
                shape(approx.rows, approx.cols) + " differ");
  size_t m = w.rows, n = w.cols;
  if (h && h->n != n)
    throw Error("proxy error: the Hessian is " + shape(h->n, h->n) +
                " but the weight has " + std::to_string(n) + " input columns");
  double meanDiag = 1.0;
  if (h) {
    double s = 0.0;
    for (size_t j = 0; j < n; ++j)
      s += h->at(j, j);
    meanDiag = s / double(n);
    if (!(meanDiag > 0.0))
      throw Error("proxy error: the Hessian's diagonal is not positive");
  }
  // Per row: d^T H_m d, rows independent, summed in row order.
  std::vector<double> err(m), ref(m);
  parallelFor(
      0, m, threads,
      [&](size_t rb, size_t re) {
        std::vector<double> d(n), x(n);
        for (size_t i = rb; i < re; ++i) {
          for (size_t j = 0; j < n; ++j) {
            x[j] = w.at(i, j);
            d[j] = double(w.at(i, j)) - approx.at(i, j);
          }
          double e = 0.0, r = 0.0;
          if (!h) {
            for (size_t j = 0; j < n; ++j) {
              e += d[j] * d[j];
              r += x[j] * x[j];
            }
          } else {
            for (size_t a = 0; a < n; ++a) {
              const double *hrow = h->values.data() + a * n;
              double hd = 0.0, hx = 0.0;
              for (size_t b = 0; b < n; ++b) {
                hd += hrow[b] * d[b];
                hx += hrow[b] * x[b];
              }
              e += d[a] * hd;
              r += x[a] * hx;
            }
            e /= meanDiag;
            r /= meanDiag;
          }
          err[i] = e;
          ref[i] = r;
        }
      },
      4);
  ProxyError out;
  double r = 0.0;
  for (size_t i = 0; i < m; ++i) {
    out.proxy += err[i];
    r += ref[i];
  }
  out.relative = r > 0 ? out.proxy / r : 0.0;
  out.perN2 = out.proxy / (double(n) * double(n));
  return out;
}

//===----------------------------------------------------------------------===//
// §2 preparation
//===----------------------------------------------------------------------===//

VptqPrepared vptqPrepare(const Matrix &w, const CalibrationHessian *h,
                         const VptqConfig &config) {
  size_t m = w.rows, n = w.cols;
  if (m == 0 || n == 0)
    throw Error("vptq: the weight is empty (" + shape(m, n) + ")");
  requireFinite(w, "vptq weight");
  if (!(config.damp >= 0.0) || !std::isfinite(config.damp))
    throw Error("vptq: damp must be finite and >= 0");
  VptqPrepared out;
  out.weights = w;
  out.weights.storage = DType::F32;
  Matrix &W = out.weights;

  // H as a diagonal unless a dense, non-diagonal H was given.
  bool dense = false;
  std::vector<double> diag(n, 1.0);
  RowMajorD H;
  if (h) {
    if (h->n != n || h->values.size() != n * n)
      throw Error("vptq: the Hessian is " + shape(h->n, h->n) +
                  " but the weight " + shape(m, n) + " has " +
                  std::to_string(n) + " input columns (expected " +
                  shape(n, n) + ")");
    for (size_t i = 0; i < n * n; ++i)
      if (!std::isfinite(h->values[i]))
        throw Error("vptq: the Hessian has a non-finite entry at (" +
                    std::to_string(i / n) + ", " + std::to_string(i % n) + ")");
    for (size_t j = 0; j < n; ++j) {
      diag[j] = h->at(j, j);
      if (diag[j] < 0.0)
        throw Error("vptq: the Hessian is not positive semidefinite (H[" +
                    std::to_string(j) + "][" + std::to_string(j) +
                    "] = " + std::to_string(diag[j]) + " < 0)");
    }
    for (size_t i = 0; i < n && !dense; ++i)
      for (size_t j = 0; j < n; ++j)
        if (i != j && h->at(i, j) != 0.0) {
          dense = true;
          break;
        }
    if (dense)
      H = Eigen::Map<const RowMajorD>(h->values.data(), n, n);
  }

  // Step 1: H / mean(diag H).
  double meanDiag = std::accumulate(diag.begin(), diag.end(), 0.0) / double(n);
  if (!(meanDiag > 0.0))
    throw Error("vptq: the Hessian's diagonal is all zero");
  for (double &d : diag)
    d /= meanDiag;
  if (dense)
    H /= meanDiag;

  // Step 2: dead columns.
  for (size_t j = 0; j < n; ++j) {
    if (diag[j] != 0.0)
      continue;
    diag[j] = 1.0;
    if (dense)
      H(j, j) = 1.0;
    for (size_t i = 0; i < m; ++i)
      W.at(i, j) = 0.0f;
  }

  // Step 3: per-column normalization with fp16 scale and bias.
  if (config.normalize) {
    out.scale.resize(n);
    out.bias.resize(n);
    for (size_t j = 0; j < n; ++j) {
      float lo = W.at(0, j), hi = W.at(0, j);
      for (size_t i = 1; i < m; ++i) {
        lo = std::min(lo, W.at(i, j));
        hi = std::max(hi, W.at(i, j));
      }
      float b = roundToHalf(lo), s = roundToHalf(hi - lo);
      if (s == 0.0f)
        s = 1.0f;
      if (!std::isfinite(b) || !std::isfinite(s))
        throw Error("vptq: column " + std::to_string(j) +
                    " exceeds the fp16 range of the scale/bias");
      out.scale[j] = s;
      out.bias[j] = b;
      for (size_t i = 0; i < m; ++i)
        W.at(i, j) = (W.at(i, j) - b) / s;
    }
    // H <- S H S, renormalized.
    for (size_t j = 0; j < n; ++j)
      diag[j] *= double(out.scale[j]) * out.scale[j];
    if (dense)
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
          H(i, j) *= double(out.scale[i]) * out.scale[j];
    double md = std::accumulate(diag.begin(), diag.end(), 0.0) / double(n);
    for (double &d : diag)
      d /= md;
    if (dense)
      H /= md;
  }

  // Step 4: damping; k-means weights.
  for (size_t j = 0; j < n; ++j) {
    diag[j] += config.damp;
    if (dense)
      H(j, j) = diag[j];
  }

  // Step 5: stable argsort of diag H, descending.
  out.perm.resize(n);
  std::iota(out.perm.begin(), out.perm.end(), 0u);
  // Stable: equal diagonals keep ascending column order (a std::sort with
  // the index as tie-break; std::stable_sort trips a libstdc++ deprecation).
  if (config.permute)
    std::sort(out.perm.begin(), out.perm.end(), [&](uint32_t a, uint32_t b) {
      return diag[a] > diag[b] || (diag[a] == diag[b] && a < b);
    });
  out.permIsIdentity = true;
  for (size_t p = 0; p < n; ++p)
    out.permIsIdentity &= out.perm[p] == p;
  out.columnWeights.resize(n);
  for (size_t p = 0; p < n; ++p)
    out.columnWeights[p] = diag[out.perm[p]];
  if (!out.permIsIdentity) {
    Matrix permuted(m, n);
    for (size_t i = 0; i < m; ++i)
      for (size_t p = 0; p < n; ++p)
        permuted.at(i, p) = W.at(i, out.perm[p]);
    W.values.swap(permuted.values);
    if (dense) {
      RowMajorD P(n, n);
      for (size_t a = 0; a < n; ++a)
        for (size_t b = 0; b < n; ++b)
          P(a, b) = H(out.perm[a], out.perm[b]);
      H.swap(P);
    }
  }
  const std::vector<double> &d5 = out.columnWeights; // diag after step 5

  // Steps 6 and 7, with up to three 10x increases of the step-6 damping.
  double meanD5 = std::accumulate(d5.begin(), d5.end(), 0.0) / double(n);
  out.u.assign(n * n, 0.0f);
  out.diagonal = !dense;
  double damping = config.damp;
  for (unsigned attempt = 0;; ++attempt, damping *= 10.0) {
    double add = damping * meanD5;
    if (!dense) {
      bool ok = true;
      for (size_t p = 0; p < n; ++p) {
        double hpp = d5[p] + add;
        ok &= hpp > 0.0;
        out.u[p * n + p] = static_cast<float>(1.0 / std::sqrt(hpp));
      }
      if (ok) {
        out.damping = damping;
        break;
      }
    } else {
      // Reversed copy: Hr(i, j) = H(n-1-i, n-1-j), with the damping added.
      Eigen::MatrixXd Hr(n, n);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j)
          Hr(i, j) = H(n - 1 - i, n - 1 - j);
      for (size_t i = 0; i < n; ++i)
        Hr(i, i) += add;
      Eigen::LLT<Eigen::MatrixXd> llt(Hr);
      bool ok = llt.info() == Eigen::Success;
      if (ok) {
        Eigen::MatrixXd L = llt.matrixL();
        Eigen::MatrixXd V(n, n);
        for (size_t i = 0; i < n; ++i)
          for (size_t j = 0; j < n; ++j)
            V(i, j) = L(n - 1 - i, n - 1 - j);
        Eigen::MatrixXd U = V.triangularView<Eigen::Upper>().solve(
            Eigen::MatrixXd::Identity(n, n));
        for (size_t i = 0; i < n && ok; ++i)
          for (size_t j = i; j < n; ++j) {
            double u = U(i, j);
            if (!std::isfinite(u) || (i == j && !(u > 0.0))) {
              ok = false;
              break;
            }
            out.u[i * n + j] = static_cast<float>(u);
          }
      }
      if (ok) {
        out.damping = damping;
        break;
      }
    }
    if (attempt == 3)
      throw Error("vptq: the Hessian is not positive definite even with "
                  "damping " +
                  std::to_string(damping) +
                  " x mean(diag H) (Cholesky failed after 3 retries)");
  }
  return out;
}

Matrix vptqRestore(const VptqPrepared &prepared, const Matrix &quantized) {
  size_t m = quantized.rows, n = quantized.cols;
  Matrix out(m, n);
  bool norm = !prepared.scale.empty();
  for (size_t i = 0; i < m; ++i)
    for (size_t p = 0; p < n; ++p) {
      uint32_t j = prepared.perm[p];
      float q = quantized.at(i, p);
      if (norm) { // two statements: never contracted into an FMA
        float scaled = q * prepared.scale[j];
        q = scaled + prepared.bias[j];
      }
      out.at(i, j) = q;
    }
  return out;
}

} // namespace qet::quant
