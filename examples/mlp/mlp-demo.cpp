//===- mlp-demo.cpp - Quantize, compile, run: a two-layer MLP -------------===//
//
// Calls the ahead-of-time compiled functions of mlp.mlir:
//   1. quantizes both weight matrices with the compiled qet.group_encode and
//      checks codes, scales and zero points bit for bit against the quantizer
//      library (the reference semantics);
//   2. runs the MLP with fp32 weights and with RTN-4 weights, both compiled,
//      and compares them with an OpenBLAS fp32 reference;
//   3. prints weight errors, output errors, storage and timings.
// Weights are Student-t (heavy tails, like trained weights) unless a
// .safetensors file and two tensor names are given.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Rtn.h"
#include "qet/Quantizer/SyntheticData.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

using namespace qet::quant;

template <typename T> using Memref2D = StridedMemRefType<T, 2>;

extern "C" {
void _mlir_ciface_quantize_rtn4(Memref2D<float> *w, Memref2D<int8_t> *codes,
                                Memref2D<uint16_t> *scales,
                                Memref2D<uint16_t> *zeros);
void _mlir_ciface_mlp_f32(Memref2D<float> *x, Memref2D<float> *w1,
                          Memref2D<float> *w2, Memref2D<float> *y);
void _mlir_ciface_mlp_rtn4(Memref2D<float> *x, Memref2D<int8_t> *c1,
                           Memref2D<uint16_t> *s1, Memref2D<uint16_t> *z1,
                           Memref2D<int8_t> *c2, Memref2D<uint16_t> *s2,
                           Memref2D<uint16_t> *z2, Memref2D<float> *y);
}

namespace {

constexpr RtnConfig kScheme{4, 128, false}; // must match mlp.mlir

template <typename T>
Memref2D<T> view(std::vector<T> &data, size_t rows, size_t cols) {
  Memref2D<T> m;
  m.basePtr = m.data = data.data();
  m.offset = 0;
  m.sizes[0] = static_cast<int64_t>(rows);
  m.sizes[1] = static_cast<int64_t>(cols);
  m.strides[0] = static_cast<int64_t>(cols);
  m.strides[1] = 1;
  return m;
}

/// Median wall time of `runs` calls, in milliseconds.
double medianMs(int runs, const std::function<void()> &fn) {
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

/// The weight in the compiled RTN form.
struct CompiledRtn {
  size_t rows, cols, groups;
  std::vector<int8_t> codes;
  std::vector<uint16_t> scales, zeros;
  Memref2D<int8_t> codesView;
  Memref2D<uint16_t> scalesView, zerosView;

  explicit CompiledRtn(Matrix &w)
      : rows(w.rows), cols(w.cols),
        groups((w.cols + kScheme.group - 1) / kScheme.group),
        codes(rows * cols), scales(rows * groups), zeros(rows * groups) {
    codesView = view(codes, rows, cols);
    scalesView = view(scales, rows, groups);
    zerosView = view(zeros, rows, groups);
  }
};

/// Counts elements where the compiled encoder differs from the library.
size_t mismatches(const CompiledRtn &compiled, const RtnEncoded &library) {
  size_t bad = 0;
  for (size_t i = 0; i < compiled.codes.size(); ++i)
    bad += uint8_t(compiled.codes[i]) != library.codes[i];
  for (size_t g = 0; g < compiled.scales.size(); ++g) {
    bad += compiled.scales[g] != floatToHalfBits(library.scales[g]);
    bad += compiled.zeros[g] != floatToHalfBits(library.zeroPoints[g]);
  }
  return bad;
}

/// y = relu(x W1^T) W2^T with OpenBLAS, the fp32 reference.
Matrix referenceForward(const Matrix &x, const Matrix &w1, const Matrix &w2) {
  Matrix h(x.rows, w1.rows), y(x.rows, w2.rows);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(x.rows), int(w1.rows),
              int(x.cols), 1.0f, x.values.data(), int(x.cols), w1.values.data(),
              int(w1.cols), 0.0f, h.values.data(), int(h.cols));
  for (float &v : h.values)
    v = std::max(v, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(h.rows), int(w2.rows),
              int(h.cols), 1.0f, h.values.data(), int(h.cols), w2.values.data(),
              int(w2.cols), 0.0f, y.values.data(), int(y.cols));
  return y;
}

int usage() {
  std::fprintf(stderr,
               "usage: qet-mlp-demo [--batch N] [--runs N]\n"
               "                    [--weights FILE.safetensors --w1 NAME --w2 NAME]\n"
               "W1 is [hidden, in], W2 is [in, hidden] (y = relu(x W1^T) W2^T).\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  size_t batch = 16;
  int runs = 7;
  std::string weights, w1Name, w2Name;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      return usage();
    if (arg == "--batch")
      batch = std::stoul(argv[++i]);
    else if (arg == "--runs")
      runs = std::stoi(argv[++i]);
    else if (arg == "--weights")
      weights = argv[++i];
    else if (arg == "--w1")
      w1Name = argv[++i];
    else if (arg == "--w2")
      w2Name = argv[++i];
    else
      return usage();
  }

  try {
    Matrix w1, w2;
    std::string source;
    if (!weights.empty()) {
      w1 = readMatrix(weights, w1Name);
      w2 = readMatrix(weights, w2Name);
      source = weights;
    } else {
      // The FFN of a small BERT layer: 384 -> 1536 -> 384.
      w1 = makeSynthetic(Family::StudentT, 1536, 384, 1);
      w2 = makeSynthetic(Family::StudentT, 384, 1536, 2);
      source = "synthetic Student-t (nu=4, sigma=0.02)";
    }
    if (w1.cols != w2.rows || w1.rows != w2.cols)
      throw Error("W1 must be [hidden, in] and W2 [in, hidden]; got " +
                  std::to_string(w1.rows) + "x" + std::to_string(w1.cols) +
                  " and " + std::to_string(w2.rows) + "x" +
                  std::to_string(w2.cols));
    Matrix x = makeSynthetic(Family::Gaussian, batch, w1.cols, 3, 1.0);
    std::printf("model: y = relu(x W1^T) W2^T, W1 %zux%zu, W2 %zux%zu, batch %zu\n",
                w1.rows, w1.cols, w2.rows, w2.cols, batch);
    std::printf("weights: %s\n", source.c_str());
    std::printf("scheme: #qet.rtn<bits = 4, group = 128> (asymmetric, fp16 scale + min)\n\n");

    // 1. Quantize with the compiled encoder and with the library.
    std::printf("[quantize] compiled qet.group_encode vs the quantizer library\n");
    CompiledRtn q1(w1), q2(w2);
    uint64_t weightBits = 0;
    for (auto layer : {std::tuple{&w1, &q1, "W1"}, std::tuple{&w2, &q2, "W2"}}) {
      Matrix *w = std::get<0>(layer);
      CompiledRtn *q = std::get<1>(layer);
      const char *name = std::get<2>(layer);
      auto wView = view(w->values, w->rows, w->cols);
      double compiledMs = medianMs(runs, [&] {
        _mlir_ciface_quantize_rtn4(&wView, &q->codesView, &q->scalesView,
                                   &q->zerosView);
      });
      RtnEncoded library;
      double libraryMs = medianMs(runs, [&] { library = rtnEncode(*w, kScheme, 1); });
      size_t bad = mismatches(*q, library);
      ErrorMetrics err = measureError(*w, rtnDecode(library));
      uint64_t bits = rtnStorageBits(w->rows, w->cols, kScheme);
      weightBits += bits;
      std::printf("  %s: %s (%zu mismatching codes/scales/zeros), "
                  "compiled %.2f ms, library %.2f ms (1 thread)\n",
                  name, bad == 0 ? "bit-identical" : "MISMATCH", bad,
                  compiledMs, libraryMs);
      std::printf("      bpe %.4f, weight MSE %.3e, rel. Frobenius error %.4f\n",
                  double(bits) / double(w->size()), err.mse, err.relFrobenius);
      if (bad)
        throw Error("the compiled encoder disagrees with the library");
    }

    // 2. Forward passes.
    Matrix yF32(batch, w2.rows), yRtn(batch, w2.rows);
    auto xView = view(x.values, x.rows, x.cols);
    auto w1View = view(w1.values, w1.rows, w1.cols);
    auto w2View = view(w2.values, w2.rows, w2.cols);
    auto yF32View = view(yF32.values, yF32.rows, yF32.cols);
    auto yRtnView = view(yRtn.values, yRtn.rows, yRtn.cols);
    Matrix reference;
    double blasMs = medianMs(runs, [&] { reference = referenceForward(x, w1, w2); });
    double f32Ms = medianMs(runs, [&] {
      _mlir_ciface_mlp_f32(&xView, &w1View, &w2View, &yF32View);
    });
    double rtnMs = medianMs(runs, [&] {
      _mlir_ciface_mlp_rtn4(&xView, &q1.codesView, &q1.scalesView, &q1.zerosView,
                            &q2.codesView, &q2.scalesView, &q2.zerosView,
                            &yRtnView);
    });
    ErrorMetrics f32Err = measureError(reference, yF32);
    ErrorMetrics rtnErr = measureError(reference, yRtn);

    std::printf("\n[run] outputs vs the OpenBLAS fp32 reference (median of %d runs)\n", runs);
    std::printf("  %-34s %12s %12s %10s\n", "model", "rel. error", "max |err|", "ms");
    std::printf("  %-34s %12s %12s %10.3f\n", "OpenBLAS fp32 (reference)", "0", "0", blasMs);
    std::printf("  %-34s %12.3e %12.3e %10.3f\n", "compiled, fp32 weights",
                f32Err.relFrobenius, f32Err.maxAbs, f32Ms);
    std::printf("  %-34s %12.3e %12.3e %10.3f\n", "compiled, RTN-4 weights",
                rtnErr.relFrobenius, rtnErr.maxAbs, rtnMs);

    uint64_t f32Bits = 32 * (w1.size() + w2.size());
    std::printf("\n[memory] weights: fp32 %.1f KiB, RTN-4 %.1f KiB (%.2fx smaller, %.4f bpe)\n",
                f32Bits / 8192.0, weightBits / 8192.0,
                double(f32Bits) / double(weightBits),
                double(weightBits) / double(w1.size() + w2.size()));
    std::printf("[speed] this model takes its weights at run time, so it decodes, then\n"
                "        multiplies with plain loops (fused vector kernels need the weights\n"
                "        at compile time: qet-cpu-pipeline, docs/cpu-codegen.md).\n"
                "        Time / OpenBLAS: fp32 %.1fx, RTN-4 %.1fx\n",
                f32Ms / blasMs, rtnMs / blasMs);
    if (f32Err.relFrobenius > 1e-5)
      throw Error("the compiled fp32 model disagrees with OpenBLAS");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "qet-mlp-demo: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
