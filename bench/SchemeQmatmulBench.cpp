//===- SchemeQmatmulBench.cpp - Generated PQ/QET/VPTQ products ------------===//
//
// y = x W^T at batch 1 for a 4096 x 4096 weight (N(0, 0.02^2), seed 1)
// quantized with PQ (M = 512, 256 centroids: 1 bpe of codes + codebooks),
// QET (M = 512, swap-tree depths 3 + 0, 10-bit codebooks, 4 bpe budget) and
// VPTQ (v = 8, 4096 centroids), in one run:
//   - OpenBLAS cblas_sgemv on the fp32 W (64 MiB, beyond the L3);
//   - the runtime library's kernel (qet_tensor_matvec on the mapped .qpk);
//   - code generated ahead of time from bench/qmatmul-schemes-*.mlir by
//     qet-cpu-pipeline (backend=scf: convert-qet-to-scf's fused kernels;
//     backend=runtime: calls of the runtime's kernel), the weight loaded from
//     the container this program writes first;
//   - a read-bandwidth probe.
// The quantized kernels rotate over four copies of each weight, so that
// they are read from memory, not the L3. Every generated product is checked
// against the runtime kernel before timing (max |difference| <= 1e-5 max
// |y|). The bytes/s counter is the weight's stored bytes per call.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"

#include "qet/runtime.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" void openblas_set_num_threads(int);

using qet::bench::Matrix2D;

#define SCHEME_QMATMUL(name)                                                   \
  extern "C" void _mlir_ciface_##name##_w0(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w1(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w2(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w3(Matrix2D *, Matrix2D *);            \
  static void (*const name[4])(Matrix2D *, Matrix2D *) = {                     \
      _mlir_ciface_##name##_w0, _mlir_ciface_##name##_w1,                      \
      _mlir_ciface_##name##_w2, _mlir_ciface_##name##_w3};
SCHEME_QMATMUL(scf_pq_b1)
SCHEME_QMATMUL(scf_qet_b1)
SCHEME_QMATMUL(scf_vptq_b1)
SCHEME_QMATMUL(runtime_pq_b1)
SCHEME_QMATMUL(runtime_qet_b1)
SCHEME_QMATMUL(runtime_vptq_b1)

using namespace qet;

namespace {

constexpr int64_t kRows = 4096, kCols = 4096;
constexpr int kCopies = 4;
using Generated = void (*const *)(Matrix2D *, Matrix2D *); // kCopies entries

/// The schemes, in benchmark-argument order, with the options that give the
/// types of bench/make_qmatmul_modules.sh.
struct Scheme {
  const char *name;
  Generated scf, runtime;
};
const Scheme kSchemes[] = {{"pq", scf_pq_b1, runtime_pq_b1},
                           {"qet", scf_qet_b1, runtime_qet_b1},
                           {"vptq", scf_vptq_b1, runtime_vptq_b1}};

quant::QuantizeOptions optionsFor(const std::string &scheme) {
  quant::QuantizeOptions o;
  o.iterations = 3;
  if (scheme == "pq") {
    o.bpe = 4;
    o.subspaces = 512;
    o.maxCentroids = 256;
  } else if (scheme == "qet") {
    o.bpe = 4;
    o.subspaces = 512;
    o.depths = {3, 0};
    o.split = {0.7, 0.3};
    o.codebookBits = {10, 10};
  } else {
    o.vectorLength = 8;
    o.centroids = 4096;
    o.iterations = 2;
  }
  return o;
}

struct Setup {
  quant::Matrix w;
  std::vector<float> x;
  qet_container *container = nullptr;
  /// Per scheme: the runtime's tensors (one per copy) and stored bytes.
  std::vector<std::vector<qet_tensor *>> tensors;
  std::vector<uint64_t> storedBytes;
  std::vector<double> bpe;
};

void check(qet_status status) {
  if (status != QET_OK) {
    std::fprintf(stderr, "%s\n", qet_last_error());
    std::exit(1);
  }
}

void runGenerated(void (*fn)(Matrix2D *, Matrix2D *), Setup &s,
                  std::vector<float> &y) {
  Matrix2D x = bench::describe(s.x, 1, kCols),
           out = bench::describe(y, 1, kRows);
  fn(&x, &out);
}

Setup &setup() {
  static Setup *data = [] {
    auto *d = new Setup;
    quant::Rng rng(1);
    d->w = quant::Matrix(kRows, kCols);
    for (float &v : d->w.values)
      v = static_cast<float>(0.02 * rng.normal());
    d->x.resize(kCols);
    for (float &v : d->x)
      v = static_cast<float>(rng.normal());
    std::vector<quant::PackedMatrix> packed;
    for (const Scheme &scheme : kSchemes) {
      packed.push_back(
          quant::quantize(scheme.name, d->w, optionsFor(scheme.name)).packed);
      d->storedBytes.push_back((packed.back().payloadBits() + 7) / 8);
      d->bpe.push_back(packed.back().bitsPerElement());
    }
    std::vector<std::pair<std::string, const quant::PackedMatrix *>> named;
    for (size_t i = 0; i < packed.size(); ++i)
      for (int c = 0; c < kCopies; ++c)
        named.push_back({kSchemes[i].name + std::to_string(c), &packed[i]});
    // The generated code opens "qmatmul-bench.qpk" in the working directory.
    char dir[] = "/tmp/qet-scheme-bench-XXXXXX";
    if (!::mkdtemp(dir) || ::chdir(dir) != 0) {
      std::perror("temporary directory");
      std::exit(1);
    }
    quant::writePackedMatrices("qmatmul-bench.qpk", named, /*replace=*/false);
    check(qet_container_open("qmatmul-bench.qpk", &d->container));
    openblas_set_num_threads(1);
    check(qet_set_threads(1));
    d->tensors.resize(std::size(kSchemes));
    std::vector<float> want(kRows), got(kRows);
    for (size_t i = 0; i < std::size(kSchemes); ++i) {
      for (int c = 0; c < kCopies; ++c) {
        qet_tensor *t = nullptr;
        std::string name = kSchemes[i].name + std::to_string(c);
        check(qet_tensor_lookup(d->container, name.c_str(), &t));
        d->tensors[i].push_back(t);
        check(qet_tensor_matvec(t, d->x.data(), kCols, want.data(), kRows));
        for (Generated fns : {kSchemes[i].scf, kSchemes[i].runtime}) {
          runGenerated(fns[c], *d, got);
          double diff = 0, scale = 0;
          for (int64_t j = 0; j < kRows; ++j) {
            diff = std::max(diff, double(std::fabs(got[j] - want[j])));
            scale = std::max(scale, double(std::fabs(want[j])));
          }
          if (!(diff <= 1e-5 * scale)) {
            std::fprintf(stderr,
                         "generated %s (%s) differs from the runtime kernel: "
                         "max |diff| %.3g, max |y| %.3g\n",
                         name.c_str(),
                         fns == kSchemes[i].scf ? "scf" : "runtime", diff,
                         scale);
            std::exit(1);
          }
        }
      }
      std::fprintf(stderr, "%s: %.4f bpe, generated products agree\n",
                   kSchemes[i].name, d->bpe[i]);
    }
    // Loaded into the generated code's buffers and mapped by the runtime.
    if (::unlink("qmatmul-bench.qpk") != 0 || ::chdir("/") != 0 ||
        ::rmdir(dir) != 0)
      std::perror("removing the temporary container");
    return d;
  }();
  return *data;
}

void BM_Sgemv(benchmark::State &state) {
  Setup &s = setup();
  std::vector<float> y(kRows);
  for (auto _ : state) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, kRows, kCols, 1.0f,
                s.w.values.data(), kCols, s.x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kRows * kCols * 4);
}

void counters(benchmark::State &state, const Setup &s, size_t scheme) {
  state.SetLabel(kSchemes[scheme].name);
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(s.storedBytes[scheme]));
  state.counters["bpe"] = s.bpe[scheme];
}

void BM_RuntimeKernel(benchmark::State &state) {
  Setup &s = setup();
  size_t scheme = static_cast<size_t>(state.range(0));
  std::vector<float> y(kRows);
  int next = 0;
  for (auto _ : state) {
    check(qet_tensor_matvec(s.tensors[scheme][next], s.x.data(), kCols,
                            y.data(), kRows));
    next = (next + 1) % kCopies;
    benchmark::DoNotOptimize(y.data());
  }
  counters(state, s, scheme);
}

void generatedBench(benchmark::State &state, bool scf) {
  Setup &s = setup();
  size_t scheme = static_cast<size_t>(state.range(0));
  Generated fns = scf ? kSchemes[scheme].scf : kSchemes[scheme].runtime;
  std::vector<float> y(kRows);
  int next = 0;
  for (auto _ : state) {
    runGenerated(fns[next], s, y);
    next = (next + 1) % kCopies;
    benchmark::DoNotOptimize(y.data());
  }
  counters(state, s, scheme);
}

void BM_GeneratedScf(benchmark::State &state) { generatedBench(state, true); }
void BM_GeneratedRuntime(benchmark::State &state) {
  generatedBench(state, false);
}

} // namespace

BENCHMARK(qet::bench::readBandwidth)
    ->Name("BM_ReadBandwidth")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sgemv)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RuntimeKernel)
    ->DenseRange(0, 2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedScf)
    ->DenseRange(0, 2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedRuntime)
    ->DenseRange(0, 2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
