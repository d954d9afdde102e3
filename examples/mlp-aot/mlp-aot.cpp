//===- mlp-aot.cpp - A quantized MLP compiled with its weights ------------===//
//
// Calls @mlp_b1 and @mlp_b8 of mlp.mlir, y = relu(x W1^T) W2^T, whose f32
// weight constants qet-quantize-weights packed as RTN at compile time and
// whose products qet-cpu-pipeline{backend=scf} fused into vector loops
// (examples/mlp-aot/CMakeLists.txt), and compares the outputs with
//   - the fp32 model (OpenBLAS on w1.npy, w2.npy): the quantization error;
//   - the quantized model (the library's RTN reconstruction of the same
//     weights, multiplied in fp64): the compiler must compute exactly this
//     model, up to fp32 rounding, bounded per output from its own terms;
// then times the compiled forward against OpenBLAS fp32 (one thread each).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Rtn.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace qet::quant;

using Memref2D = StridedMemRefType<float, 2>;

extern "C" {
void _mlir_ciface_mlp_b1(Memref2D *x, Memref2D *y);
void _mlir_ciface_mlp_b8(Memref2D *x, Memref2D *y);
void _mlir_ciface_mlp_i8_b1(Memref2D *x, Memref2D *y);
void _mlir_ciface_mlp_i8_b8(Memref2D *x, Memref2D *y);
void openblas_set_num_threads(int);
}

namespace {

// Shapes and scheme of the compiled module (set by CMakeLists.txt, which
// passes the same values to make_mlp_module.py and qet-quantize-weights).
constexpr size_t kDim = QET_MLP_AOT_DIM, kHidden = QET_MLP_AOT_HIDDEN,
                 kOut = QET_MLP_AOT_OUT;
constexpr unsigned kBits = QET_MLP_AOT_BITS, kGroup = QET_MLP_AOT_GROUP;
constexpr double kBpe = QET_MLP_AOT_BPE;

/// fp32 unit roundoff u. A sum of K terms computed in fp32, in any order,
/// is off by at most K u sum|terms|, but that worst case is so loose here
/// (the kernel's terms q s x and z x cancel: sum|terms| ~ 200 |y|) that a
/// weight quantized with groups of 256 instead of 128 passed it. With
/// independent rounding errors it is lambda sqrt(K) u sum|terms| except with
/// probability 2 K exp(-lambda^2 / 2) (Higham & Mary, SIAM J. Sci. Comput.
/// 2019), < 1e-13 per output for lambda = 9, K <= 2^20; 2 u sum|terms| more
/// covers the reference weights' own fp32 rounding (z + q s).
constexpr double kUnit = 0x1p-24;
constexpr double kLambda = 9.0;
double roundingBound(size_t k) {
  return (kLambda * std::sqrt(double(k)) + 2) * kUnit;
}
/// Sanity bound on the rms error against the fp32 model: twice what RTN
/// theory predicts (Layer::predicted for both weights, combined as
/// independent errors).
constexpr double kTheoryFactor = 2.0;

/// A compiled forward pass: batch, f32-input products, and the same with
/// the products' inputs quantized per group to 8 bits (activations=i8).
struct Function {
  size_t batch;
  void (*call)(Memref2D *, Memref2D *);
  void (*callI8)(Memref2D *, Memref2D *);
};
constexpr Function kFunctions[] = {
    {1, _mlir_ciface_mlp_b1, _mlir_ciface_mlp_i8_b1},
    {8, _mlir_ciface_mlp_b8, _mlir_ciface_mlp_i8_b8}};
constexpr size_t kMaxBatch = 8;

Memref2D view(float *data, size_t rows, size_t cols) {
  Memref2D m;
  m.basePtr = m.data = data;
  m.offset = 0;
  m.sizes[0] = static_cast<int64_t>(rows);
  m.sizes[1] = static_cast<int64_t>(cols);
  m.strides[0] = static_cast<int64_t>(cols);
  m.strides[1] = 1;
  return m;
}

/// One weight [out, in] and what the library makes of it with the
/// compiler's options (quantize("rtn", ...) is the call the pass makes;
/// RTN is deterministic, so the seed does not matter).
struct Layer {
  Matrix w;
  QuantizeResult rtn;
  /// fp64 copies [out, in]: the reconstruction, its magnitude, and the
  /// magnitude of the kernel's terms per weight, |zero| + code |scale|.
  std::vector<double> wq, wqAbs, terms;
  ErrorMetrics error;
  double predicted = 0;

  Layer(const std::string &path, size_t rows, size_t cols) {
    w = readNpy(path);
    if (w.rows != rows || w.cols != cols)
      throw Error(path + " is " + std::to_string(w.rows) + "x" +
                  std::to_string(w.cols) + " but the compiled model expects " +
                  std::to_string(rows) + "x" + std::to_string(cols) +
                  " (regenerate it with the build's make_mlp_module.py)");
    QuantizeOptions options;
    options.bpe = kBpe;
    options.bits = kBits;
    options.group = kGroup;
    rtn = quantize("rtn", w, options);
    RtnEncoded e = rtnUnpack(rtn.packed);
    size_t groups = e.groupsPerRow();
    wq.resize(w.size());
    wqAbs.resize(w.size());
    terms.resize(w.size());
    double noise = 0, energy = 0;
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        size_t i = r * cols + c, g = r * groups + c / kGroup;
        wq[i] = rtn.reconstruction.values[i];
        wqAbs[i] = std::fabs(wq[i]);
        terms[i] = std::fabs(double(e.zeroPoints[g])) +
                   e.codes[i] * std::fabs(double(e.scales[g]));
        // Rounding to a grid of step s leaves a uniform error of
        // variance s^2 / 12 per element.
        noise += double(e.scales[g]) * e.scales[g] / 12.0;
        energy += double(w.values[i]) * w.values[i];
      }
    }
    error = measureError(w, rtn.reconstruction);
    predicted = std::sqrt(noise / energy);
  }

  size_t rows() const { return w.rows; }
  size_t cols() const { return w.cols; }
  uint64_t packedBits() const { return rtn.packed.payloadBits(); }
};

/// c[m x n] = a[m x k] b[n x k]^T in fp64.
std::vector<double> productNT(const std::vector<double> &a,
                              const std::vector<double> &b, size_t m, size_t n,
                              size_t k) {
  std::vector<double> c(m * n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k),
              1.0, a.data(), int(k), b.data(), int(k), 0.0, c.data(), int(n));
  return c;
}

/// The quantized model in fp64 and, per output, a bound on how far an fp32
/// computation of it may be: layer 1's bound E1 = roundingBound(D) T1 (T1 =
/// the sum of the kernel's |terms|) passes through relu (1-Lipschitz) and
/// W2, and layer 2 adds its own roundingBound(H) T2, T2 taken with |a| + E1.
struct QuantizedReference {
  std::vector<double> y, bound;
};

QuantizedReference quantizedForward(const float *x, size_t batch,
                                    const Layer &l1, const Layer &l2) {
  std::vector<double> xd(x, x + batch * kDim), xAbs(batch * kDim);
  for (size_t i = 0; i < xd.size(); ++i)
    xAbs[i] = std::fabs(xd[i]);
  std::vector<double> h = productNT(xd, l1.wq, batch, kHidden, kDim);
  std::vector<double> e1 = productNT(xAbs, l1.terms, batch, kHidden, kDim);
  std::vector<double> a(h.size()), aAbs(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    e1[i] *= roundingBound(kDim);
    a[i] = std::max(h[i], 0.0);
    aAbs[i] = a[i] + e1[i];
  }
  QuantizedReference ref;
  ref.y = productNT(a, l2.wq, batch, kOut, kHidden);
  ref.bound = productNT(e1, l2.wqAbs, batch, kOut, kHidden);
  std::vector<double> t2 = productNT(aAbs, l2.terms, batch, kOut, kHidden);
  for (size_t i = 0; i < t2.size(); ++i)
    ref.bound[i] += roundingBound(kHidden) * t2[i];
  return ref;
}

/// The fp32 model with OpenBLAS (sgemv at batch 1, sgemm otherwise).
void blasForward(const float *x, size_t batch, const Layer &l1, const Layer &l2,
                 float *h, float *y) {
  auto linear = [&](const float *in, const Layer &l, float *out) {
    if (batch == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, int(l.rows()), int(l.cols()),
                  1.0f, l.w.values.data(), int(l.cols()), in, 1, 0.0f, out, 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(batch),
                  int(l.rows()), int(l.cols()), 1.0f, in, int(l.cols()),
                  l.w.values.data(), int(l.cols()), 0.0f, out, int(l.rows()));
  };
  linear(x, l1, h);
  for (size_t i = 0; i < batch * kHidden; ++i)
    h[i] = std::max(h[i], 0.0f);
  linear(h, l2, y);
}

/// e_i = |y_i - r_i| / max_j |r_j| over one call's outputs (max and mean),
/// and the rms relative error ||y - r|| / ||r||.
struct OutputError {
  double max = 0, mean = 0, rms = 0;
};

template <typename T>
OutputError compare(const std::vector<float> &y, const std::vector<T> &ref) {
  double scale = 0, diff2 = 0, ref2 = 0, sum = 0, largest = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    double d = std::fabs(double(y[i]) - double(ref[i]));
    scale = std::max(scale, std::fabs(double(ref[i])));
    largest = std::max(largest, d);
    sum += d;
    diff2 += d * d;
    ref2 += double(ref[i]) * double(ref[i]);
  }
  OutputError e;
  e.max = largest / scale;
  e.mean = sum / double(y.size()) / scale;
  e.rms = std::sqrt(diff2 / ref2);
  return e;
}

/// Median wall time of `runs` calls (after one warm-up call), in ms.
double medianMs(int runs, const std::function<void()> &fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int usage() {
  std::fprintf(
      stderr,
      "usage: qet-mlp-aot [--check] [--runs N] [--weights DIR]\n"
      "  --check     accuracy checks only (no timing)\n"
      "  --runs N    timed calls per measurement (median; default 11)\n"
      "  --weights   folder of the w1.npy, w2.npy that mlp.o was compiled\n"
      "              from (default: " QET_MLP_AOT_DIR ")\n"
      "Exits with 1 when a check fails.\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  bool checkOnly = false;
  int runs = 11;
  std::string dir = QET_MLP_AOT_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--check") {
      checkOnly = true;
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
      if (runs < 1)
        return usage();
    } else if (arg == "--weights" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      return usage();
    }
  }

  try {
    openblas_set_num_threads(1);
    Layer l1(dir + "/w1.npy", kHidden, kDim),
        l2(dir + "/w2.npy", kOut, kHidden);
    Matrix x = makeSynthetic(Family::Gaussian, kMaxBatch, kDim, 7, 1.0);
    std::printf("model: y = relu(x W1^T) W2^T, W1 %zux%zu, W2 %zux%zu "
                "(Student-t weights, %s)\n",
                kHidden, kDim, kOut, kHidden, dir.c_str());
    std::printf("compiled: qet-quantize-weights{scheme=rtn bits=%u group=%u} "
                "(weights are constants), qet-cpu-pipeline{backend=scf}\n",
                kBits, kGroup);

    uint64_t f32Bytes = 4 * (l1.w.size() + l2.w.size());
    uint64_t packedBits = l1.packedBits() + l2.packedBits();
    std::printf("\n[storage] fp32 %.2f MiB, RTN-%u g%u %.2f MiB (%.4f bpe, "
                "%.2fx smaller)\n",
                f32Bytes / 1048576.0, kBits, kGroup, packedBits / 8388608.0,
                double(packedBits) / double(l1.w.size() + l2.w.size()),
                8.0 * double(f32Bytes) / double(packedBits));
    // qet-quantize-weights packs each constant op: @mlp_b1 and @mlp_b8 have
    // their own, so the object holds the packed weights twice.
    std::printf("  (packed as the library packs them; mlp.o holds one copy "
                "per function)\n");
    for (const auto *l : {&l1, &l2})
      std::printf("  W%d: %.4f bpe, rel. Frobenius error %.4f (RTN theory, "
                  "sqrt(sum s^2/12 / sum w^2): %.4f)\n",
                  l == &l1 ? 1 : 2, l->rtn.packed.bitsPerElement(),
                  l->error.relFrobenius, l->predicted);

    // Per batch: compiled output, fp32 model, quantized model with bound.
    double theory = std::hypot(l1.predicted, l2.predicted);
    double sanity = kTheoryFactor * theory;
    bool ok = true;
    std::printf("\n[accuracy] e_i = |y_i - r_i| / max_j |r_j| over a call's "
                "outputs; rms = ||y - r|| / ||r||\n");
    std::printf("  %-30s %5s %10s %10s %10s\n", "compiled y vs reference r",
                "batch", "max e", "mean e", "rms");
    std::vector<float> h(kMaxBatch * kHidden), yF32(kMaxBatch * kOut);
    for (const Function &f : kFunctions) {
      std::vector<float> xb(x.values.begin(),
                            x.values.begin() + f.batch * kDim);
      std::vector<float> y(f.batch * kOut, NAN), ref(f.batch * kOut);
      Memref2D xv = view(xb.data(), f.batch, kDim);
      Memref2D yv = view(y.data(), f.batch, kOut);
      f.call(&xv, &yv);
      blasForward(xb.data(), f.batch, l1, l2, h.data(), ref.data());
      QuantizedReference q = quantizedForward(xb.data(), f.batch, l1, l2);

      OutputError vsF32 = compare(y, ref), vsQ = compare(y, q.y);
      double worst = 0; // largest |y - r| / bound
      size_t over = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        double d = std::fabs(double(y[i]) - q.y[i]);
        worst = std::max(worst, d / q.bound[i]);
        over += !(d <= q.bound[i]); // NaN counts as over
      }
      std::printf("  %-30s %5zu %10.3e %10.3e %10.3e\n",
                  "fp32 model (OpenBLAS)", f.batch, vsF32.max, vsF32.mean,
                  vsF32.rms);
      std::printf("  %-30s %5zu %10.3e %10.3e %10.3e  max |y-r|/bound %.3g\n",
                  "RTN model (library, fp64)", f.batch, vsQ.max, vsQ.mean,
                  vsQ.rms, worst);
      if (over) {
        std::printf("  FAIL batch %zu: %zu of %zu outputs differ from the RTN "
                    "model by more than the fp32 rounding bound\n",
                    f.batch, over, y.size());
        ok = false;
      }
      if (!(vsF32.rms <= sanity)) {
        std::printf("  FAIL batch %zu: rms error vs fp32 %.3e exceeds %.0f x "
                    "RTN theory = %.3e\n",
                    f.batch, vsF32.rms, kTheoryFactor, sanity);
        ok = false;
      }
      // 8-bit inputs: the RTN model moves by the input rounding (each
      // product within sum|w - m| max|x_g| / 254 per output,
      // unittests/Conversion/IntegerInputTest.cpp); held to the same bound
      // against the fp32 model, reported against the RTN model.
      std::vector<float> yI8(f.batch * kOut, NAN);
      Memref2D yv8 = view(yI8.data(), f.batch, kOut);
      f.callI8(&xv, &yv8);
      OutputError i8F32 = compare(yI8, ref), i8Q = compare(yI8, q.y);
      std::printf("  %-30s %5zu %10.3e %10.3e %10.3e\n",
                  "i8 inputs: fp32 model", f.batch, i8F32.max, i8F32.mean,
                  i8F32.rms);
      std::printf("  %-30s %5zu %10.3e %10.3e %10.3e\n", "i8 inputs: RTN model",
                  f.batch, i8Q.max, i8Q.mean, i8Q.rms);
      if (!(i8F32.rms <= sanity)) {
        std::printf("  FAIL batch %zu: with 8-bit inputs, rms error vs fp32 "
                    "%.3e exceeds %.3e\n",
                    f.batch, i8F32.rms, sanity);
        ok = false;
      }
    }
    std::printf("  RTN model: |y - r| <= (%.0f sqrt(K) + 2) u sum|terms| per "
                "output through both layers (u = 2^-24)\n",
                kLambda);
    std::printf(
        "  fp32 model: RTN theory predicts rms ~ hypot(W1, W2 errors) = "
        "%.3f; checked <= %.3f\n",
        theory, sanity);
    std::printf("  checks: %s\n", ok ? "PASS" : "FAIL");

    if (!checkOnly) {
      std::printf("\n[speed] median of %d calls after a warm-up, 1 thread; "
                  "OpenBLAS on the fp32 weights (sgemv at batch 1, sgemm at "
                  "8)\n",
                  runs);
      std::printf("  %5s %16s %16s %10s %16s %10s\n", "batch",
                  "OpenBLAS fp32 ms", "compiled RTN ms", "speed-up",
                  "i8 inputs ms", "speed-up");
      for (const Function &f : kFunctions) {
        std::vector<float> y(f.batch * kOut);
        Memref2D xv = view(x.values.data(), f.batch, kDim);
        Memref2D yv = view(y.data(), f.batch, kOut);
        double blasMs = medianMs(runs, [&] {
          blasForward(x.values.data(), f.batch, l1, l2, h.data(), yF32.data());
        });
        double compiledMs = medianMs(runs, [&] { f.call(&xv, &yv); });
        double i8Ms = medianMs(runs, [&] { f.callI8(&xv, &yv); });
        std::printf("  %5zu %16.3f %16.3f %9.2fx %16.3f %9.2fx\n", f.batch,
                    blasMs, compiledMs, blasMs / compiledMs, i8Ms,
                    blasMs / i8Ms);
      }
    }
    return ok ? 0 : 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "qet-mlp-aot: error: %s\n", e.what());
    return 1;
  }
}
