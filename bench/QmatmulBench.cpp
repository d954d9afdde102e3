//===- QmatmulBench.cpp - Generated quantized products vs BLAS and runtime ===//
//
// Y = X W^T for 4096 x 4096 weights (N(0, 0.02^2)) quantized with RTN 4-bit
// g = 128 (4.25 bpe), at batch 1, 8 and 32, single-threaded, in one run.
// Every benchmark rotates over eight distinct weights per iteration (512 MiB
// fp32, 68 MiB packed: more than the last-level cache), as performance.md
// asks:
//   - OpenBLAS cblas_sgemv / cblas_sgemm on the fp32 W (64 MiB);
//   - the runtime library's hand-written kernel (qet_rtn_matvec_f32 /
//     qet_rtn_matmul_f32 on the packed bytes);
//   - code generated ahead of time from bench/qmatmul-*.mlir by
//     qet-cpu-pipeline (backend=scf: convert-qet-to-scf's vector loops, with
//     f32 inputs or, activations=i16|i8, inputs quantized per group for
//     integer multiply-adds; backend=runtime: a call of the runtime's
//     kernel), reading the weight from the container the program writes
//     first (qet-externalize's flow);
//   - a read-bandwidth probe (memchr over 1 GiB) for the fraction of
//     measured memory bandwidth.
// Before timing, every generated product (each batch, weight and variant) is
// checked against the runtime kernel: max |difference| <= 1e-5 max |y| with
// f32 inputs, 1e-3 (i16) and 5e-2 (i8) with quantized inputs (their exact
// bound is tested in unittests/Conversion/IntegerInputTest.cpp); the largest
// deviation seen is reported as the `deviation` counter. The bytes/s counter
// is the weight's stored bytes (fp32 or packed) per call.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"

#include "qet/runtime.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" void openblas_set_num_threads(int);

using qet::bench::Matrix2D;

#define QMATMUL(name)                                                          \
  extern "C" void _mlir_ciface_##name##_w0(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w1(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w2(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w3(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w4(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w5(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w6(Matrix2D *, Matrix2D *);            \
  extern "C" void _mlir_ciface_##name##_w7(Matrix2D *, Matrix2D *);            \
  static void (*const name[8])(Matrix2D *, Matrix2D *) = {                     \
      _mlir_ciface_##name##_w0, _mlir_ciface_##name##_w1,                      \
      _mlir_ciface_##name##_w2, _mlir_ciface_##name##_w3,                      \
      _mlir_ciface_##name##_w4, _mlir_ciface_##name##_w5,                      \
      _mlir_ciface_##name##_w6, _mlir_ciface_##name##_w7};
QMATMUL(scf_rtn_b1)
QMATMUL(scf_rtn_b8)
QMATMUL(scf_rtn_b32)
QMATMUL(scf_i16_rtn_b1)
QMATMUL(scf_i16_rtn_b8)
QMATMUL(scf_i16_rtn_b32)
QMATMUL(scf_i8_rtn_b1)
QMATMUL(scf_i8_rtn_b8)
QMATMUL(scf_i8_rtn_b32)
QMATMUL(runtime_rtn_b1)
QMATMUL(runtime_rtn_b8)
QMATMUL(runtime_rtn_b32)
#undef QMATMUL

using namespace qet;

namespace {

constexpr int64_t kRows = 4096, kCols = 4096, kMaxBatch = 32;
constexpr int kWeights = 8;
using Generated = void (*const *)(Matrix2D *, Matrix2D *); // kWeights entries

struct Weight {
  quant::Matrix w;
  quant::PackedMatrix rtn;
  std::vector<uint16_t> scales, zeros;
};

struct Setup {
  std::vector<Weight> weights;
  std::vector<float> x; // kMaxBatch x kCols
  uint64_t packedBytes = 0;
  /// Per generated variant: the largest max |y - y_kernel| / max |y_kernel|.
  std::map<std::string, double> deviation;
};

/// Generated variants, their function-name prefix, and the deviation from
/// the f32 kernel they may show (input quantization: i16 about 2^-16, i8
/// about 2^-8 of the input's group maximum per term).
struct Variant {
  const char *name;
  double tolerance;
};
constexpr Variant kVariants[] = {
    {"scf", 1e-5}, {"scf_i16", 1e-3}, {"scf_i8", 5e-2}, {"runtime", 1e-5}};

std::vector<uint16_t> halves(const quant::PackedStream &s) {
  std::vector<uint16_t> out(s.count);
  std::memcpy(out.data(), s.bytes.data(), out.size() * 2);
  return out;
}

void runtimeKernel(const Weight &w, const Setup &s, int64_t batch, float *y) {
  const uint8_t *codes = w.rtn.stream("codes").bytes.data();
  qet_status status =
      batch == 1
          ? qet_rtn_matvec_f32(codes, w.scales.data(), w.zeros.data(), kRows,
                               kCols, 4, 128, s.x.data(), y)
          : qet_rtn_matmul_f32(codes, w.scales.data(), w.zeros.data(), kRows,
                               kCols, 4, 128, batch, s.x.data(), y);
  if (status != QET_OK) {
    std::fprintf(stderr, "%s\n", qet_last_error());
    std::exit(1);
  }
}

void runGenerated(void (*fn)(Matrix2D *, Matrix2D *), Setup &s, int64_t batch,
                  std::vector<float> &y) {
  Matrix2D x = qet::bench::describe(s.x, batch, kCols),
           out = qet::bench::describe(y, batch, kRows);
  fn(&x, &out);
}

Generated generated(const std::string &backend, int64_t batch) {
  if (backend == "scf")
    return batch == 1 ? scf_rtn_b1 : batch == 8 ? scf_rtn_b8 : scf_rtn_b32;
  if (backend == "scf_i16")
    return batch == 1   ? scf_i16_rtn_b1
           : batch == 8 ? scf_i16_rtn_b8
                        : scf_i16_rtn_b32;
  if (backend == "scf_i8")
    return batch == 1   ? scf_i8_rtn_b1
           : batch == 8 ? scf_i8_rtn_b8
                        : scf_i8_rtn_b32;
  return batch == 1   ? runtime_rtn_b1
         : batch == 8 ? runtime_rtn_b8
                      : runtime_rtn_b32;
}

Setup &setup() {
  static Setup *data = [] {
    auto *d = new Setup;
    quant::Rng rng(1);
    d->x.resize(kMaxBatch * kCols);
    for (float &v : d->x)
      v = static_cast<float>(rng.normal());
    quant::QuantizeOptions options;
    options.bits = 4;
    options.group = 128;
    std::vector<std::pair<std::string, const quant::PackedMatrix *>> named;
    d->weights.resize(kWeights);
    for (int i = 0; i < kWeights; ++i) {
      Weight &w = d->weights[i];
      w.w = quant::Matrix(kRows, kCols);
      for (float &v : w.w.values)
        v = static_cast<float>(0.02 * rng.normal());
      w.rtn = quant::quantize("rtn", w.w, options).packed;
      w.scales = halves(w.rtn.stream("scales"));
      w.zeros = halves(w.rtn.stream("zero_points"));
    }
    for (int i = 0; i < kWeights; ++i)
      named.push_back({"rtn" + std::to_string(i), &d->weights[i].rtn});
    d->packedBytes = (d->weights[0].rtn.payloadBits() + 7) / 8;
    // The generated code opens "qmatmul-bench.qpk" in the working directory.
    char dir[] = "/tmp/qet-qmatmul-bench-XXXXXX";
    if (!::mkdtemp(dir) || ::chdir(dir) != 0) {
      std::perror("temporary directory");
      std::exit(1);
    }
    quant::writePackedMatrices("qmatmul-bench.qpk", named, /*replace=*/false);
    openblas_set_num_threads(1);
    qet_set_threads(1);
    for (int64_t batch : {1, 8, 32}) {
      std::vector<float> want(batch * kRows), got(batch * kRows);
      for (int i = 0; i < kWeights; ++i) {
        runtimeKernel(d->weights[i], *d, batch, want.data());
        for (const Variant &v : kVariants) {
          runGenerated(generated(v.name, batch)[i], *d, batch, got);
          double diff = 0, scale = 0;
          for (size_t j = 0; j < want.size(); ++j) {
            diff = std::max(diff, double(std::fabs(got[j] - want[j])));
            scale = std::max(scale, double(std::fabs(want[j])));
          }
          if (!(diff <= v.tolerance * scale)) {
            std::fprintf(stderr,
                         "generated %s batch %lld weight %d differs from the "
                         "runtime kernel: max |diff| %.3g, max |y| %.3g\n",
                         v.name, static_cast<long long>(batch), i, diff, scale);
            std::exit(1);
          }
          double &worst = d->deviation[v.name];
          worst = std::max(worst, diff / scale);
        }
      }
    }
    for (const Variant &v : kVariants)
      std::fprintf(stderr,
                   "generated %s agrees with the runtime kernel: max |diff| "
                   "%.2g max |y| (allowed %.0e)\n",
                   v.name, d->deviation[v.name], v.tolerance);
    // Loaded into the generated code's buffers and mapped by the runtime:
    // the file and its folder can go.
    if (::unlink("qmatmul-bench.qpk") != 0 || ::chdir("/") != 0 ||
        ::rmdir(dir) != 0)
      std::perror("removing the temporary container");
    return d;
  }();
  return *data;
}

void BM_Blas(benchmark::State &state) {
  Setup &s = setup();
  int64_t batch = state.range(0);
  std::vector<float> y(batch * kRows);
  int next = 0;
  for (auto _ : state) {
    const float *w = s.weights[next].w.values.data();
    next = (next + 1) % kWeights;
    if (batch == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, kRows, kCols, 1.0f, w, kCols,
                  s.x.data(), 1, 0.0f, y.data(), 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, kRows, kCols,
                  1.0f, s.x.data(), kCols, w, kCols, 0.0f, y.data(), kRows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kRows * kCols * 4);
}

void BM_RuntimeKernel(benchmark::State &state) {
  Setup &s = setup();
  int64_t batch = state.range(0);
  std::vector<float> y(batch * kRows);
  int next = 0;
  for (auto _ : state) {
    runtimeKernel(s.weights[next], s, batch, y.data());
    next = (next + 1) % kWeights;
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * s.packedBytes);
}

void generatedBench(benchmark::State &state, const char *backend) {
  Setup &s = setup();
  int64_t batch = state.range(0);
  std::vector<float> y(batch * kRows);
  Generated fns = generated(backend, batch);
  int next = 0;
  for (auto _ : state) {
    runGenerated(fns[next], s, batch, y);
    next = (next + 1) % kWeights;
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * s.packedBytes);
  state.counters["deviation"] = s.deviation[backend];
}

void BM_GeneratedScf(benchmark::State &state) { generatedBench(state, "scf"); }
void BM_GeneratedScfI16(benchmark::State &state) {
  generatedBench(state, "scf_i16");
}
void BM_GeneratedScfI8(benchmark::State &state) {
  generatedBench(state, "scf_i8");
}
void BM_GeneratedRuntime(benchmark::State &state) {
  generatedBench(state, "runtime");
}

} // namespace

BENCHMARK(qet::bench::readBandwidth)
    ->Name("BM_ReadBandwidth")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Blas)->Arg(1)->Arg(8)->Arg(32)->UseRealTime()->Unit(
    benchmark::kMicrosecond);
BENCHMARK(BM_RuntimeKernel)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedScf)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedScfI16)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedScfI8)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeneratedRuntime)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
