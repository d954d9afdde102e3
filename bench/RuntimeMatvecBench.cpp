//===- RuntimeMatvecBench.cpp - Runtime matvec vs OpenBLAS sgemv ----------===//
//
// y = W x for one 4096 x 4096 weight (N(0, 0.02^2), seed 1), in one run:
//   - OpenBLAS cblas_sgemv on the fp32 W (64 MiB);
//   - the runtime's matvec straight from a mapped .qpk (qet_tensor_matvec)
//     for RTN 4-bit g128 (also through qet_rtn_matvec_f32, the entry point
//     generated code calls, and with the portable kernel), PQ, QET and VPTQ;
//   - batch 8 (Y = X W^T): cblas_sgemm against the runtime's RTN matmul.
// Each at 1 and 2 threads (OpenBLAS via openblas_set_num_threads). The
// bytes/s counter is the weight's stored bytes (fp32 or the tensor's section
// bytes) per call: how fast a kernel consumes the matrix it reads. Rates
// use wall time (Google Benchmark's real time).
//
//===----------------------------------------------------------------------===//

#include "qet/runtime.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" void openblas_set_num_threads(int);

using namespace qet;

namespace {

constexpr size_t kRows = 4096, kCols = 4096, kBatch = 8;

struct Weights {
  quant::Matrix w;
  std::vector<float> x; // kBatch x kCols
  std::string path;     // the container with one tensor per scheme
  qet_container *container = nullptr;
  std::map<std::string, qet_tensor *> tensors;
  std::map<std::string, uint64_t> storedBytes;
  /// The rtn tensor's streams, for qet_rtn_matvec_f32.
  quant::PackedMatrix rtn;
  std::vector<uint16_t> rtnScales, rtnZeros;
};

quant::QuantizeOptions optionsFor(const std::string &scheme) {
  quant::QuantizeOptions o;
  o.threads = 2;
  o.iterations = 3;
  if (scheme == "rtn") {
    o.bits = 4;
    o.group = 128;
  } else if (scheme == "pq") {
    o.bpe = 4;
    o.subspaces = 512; // Ds = 8
  } else if (scheme == "qet") {
    o.bpe = 4;
    o.subspaces = 512;
    o.depths = {3, 0};
    o.split = {0.7, 0.3};
    o.codebookBits = {10, 10};
  } else if (scheme == "vptq") {
    o.vectorLength = 8;
    o.centroids = 4096; // 12-bit indices per 8 weights: 1.5 bpe + codebook
    o.iterations = 2;
  }
  return o;
}

std::vector<uint16_t> halves(const quant::PackedStream &s) {
  std::vector<uint16_t> out(s.count);
  std::memcpy(out.data(), s.bytes.data(), out.size() * 2);
  return out;
}

const Weights &weights() {
  static Weights *data = [] {
    auto *d = new Weights;
    quant::Rng rng(1);
    d->w = quant::Matrix(kRows, kCols);
    for (float &v : d->w.values)
      v = static_cast<float>(0.02 * rng.normal());
    d->x.resize(kBatch * kCols);
    for (float &v : d->x)
      v = static_cast<float>(rng.normal());
    std::vector<quant::PackedMatrix> packed;
    const std::vector<std::string> schemes = {"rtn", "pq", "qet", "vptq"};
    for (const std::string &scheme : schemes) {
      auto start = std::chrono::steady_clock::now();
      packed.push_back(
          quant::quantize(scheme, d->w, optionsFor(scheme)).packed);
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      std::fprintf(stderr, "quantized %s in %.1f s (%.3f bpe)\n",
                   scheme.c_str(), seconds, packed.back().bitsPerElement());
      d->storedBytes[scheme] = (packed.back().payloadBits() + 7) / 8;
    }
    d->rtn = packed[0];
    d->rtnScales = halves(d->rtn.stream("scales"));
    d->rtnZeros = halves(d->rtn.stream("zero_points"));
    char templ[] = "/tmp/qet-runtime-bench-XXXXXX";
    int fd = ::mkstemp(templ);
    if (fd < 0) {
      std::perror("mkstemp");
      std::exit(1);
    }
    ::close(fd);
    d->path = templ;
    std::vector<std::pair<std::string, const quant::PackedMatrix *>> named;
    for (size_t i = 0; i < schemes.size(); ++i)
      named.push_back({schemes[i], &packed[i]});
    quant::writePackedMatrices(d->path, named, /*replace=*/true);
    if (qet_container_open(d->path.c_str(), &d->container) != QET_OK) {
      std::fprintf(stderr, "%s\n", qet_last_error());
      std::exit(1);
    }
    ::unlink(d->path.c_str()); // the mapping keeps the data
    for (const std::string &scheme : schemes)
      if (qet_tensor_lookup(d->container, scheme.c_str(),
                            &d->tensors[scheme]) != QET_OK) {
        std::fprintf(stderr, "%s\n", qet_last_error());
        std::exit(1);
      }
    return d;
  }();
  return *data;
}

void setThreads(benchmark::State &state) {
  int threads = static_cast<int>(state.range(0));
  openblas_set_num_threads(threads);
  qet_set_threads(threads);
}

void check(benchmark::State &state, qet_status status) {
  if (status != QET_OK)
    state.SkipWithError(qet_last_error());
}

void BM_Sgemv(benchmark::State &state) {
  const Weights &d = weights();
  setThreads(state);
  std::vector<float> y(kRows);
  for (auto _ : state) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, kRows, kCols, 1.0f,
                d.w.values.data(), kCols, d.x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kRows * kCols * 4);
}

void tensorMatvec(benchmark::State &state, const std::string &scheme,
                  qet_kernel kernel) {
  const Weights &d = weights();
  setThreads(state);
  check(state, qet_set_kernel(kernel));
  std::vector<float> y(kRows);
  for (auto _ : state) {
    check(state, qet_tensor_matvec(d.tensors.at(scheme), d.x.data(), kCols,
                                   y.data(), y.size()));
    benchmark::DoNotOptimize(y.data());
  }
  qet_set_kernel(QET_KERNEL_AUTO);
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(d.storedBytes.at(scheme)));
}

void BM_RtnMatvec(benchmark::State &state) {
  tensorMatvec(state, "rtn", QET_KERNEL_AUTO);
}
void BM_RtnMatvecPortable(benchmark::State &state) {
  tensorMatvec(state, "rtn", QET_KERNEL_PORTABLE);
}
void BM_PqMatvec(benchmark::State &state) {
  tensorMatvec(state, "pq", QET_KERNEL_AUTO);
}
void BM_QetMatvec(benchmark::State &state) {
  tensorMatvec(state, "qet", QET_KERNEL_AUTO);
}
void BM_VptqMatvec(benchmark::State &state) {
  tensorMatvec(state, "vptq", QET_KERNEL_AUTO);
}

void BM_RtnPlainEntry(benchmark::State &state) {
  const Weights &d = weights();
  setThreads(state);
  std::vector<float> y(kRows);
  for (auto _ : state) {
    check(state,
          qet_rtn_matvec_f32(d.rtn.stream("codes").bytes.data(),
                             d.rtnScales.data(), d.rtnZeros.data(), kRows,
                             kCols, 4, 128, d.x.data(), y.data()));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(d.storedBytes.at("rtn")));
}

void BM_SgemmBatch8(benchmark::State &state) {
  const Weights &d = weights();
  setThreads(state);
  std::vector<float> y(kBatch * kRows);
  for (auto _ : state) {
    // Y (8 x rows) = X (8 x cols) W^T.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kBatch, kRows, kCols,
                1.0f, d.x.data(), kCols, d.w.values.data(), kCols, 0.0f,
                y.data(), kRows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kRows * kCols * 4);
}

void BM_RtnMatmulBatch8(benchmark::State &state) {
  const Weights &d = weights();
  setThreads(state);
  std::vector<float> y(kBatch * kRows);
  for (auto _ : state) {
    check(state, qet_tensor_matmul(d.tensors.at("rtn"), d.x.data(), kBatch,
                                   d.x.size(), y.data(), y.size()));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(d.storedBytes.at("rtn")));
}

} // namespace

BENCHMARK(BM_Sgemv)->Arg(1)->Arg(2)->UseRealTime()->Unit(
    benchmark::kMicrosecond);
BENCHMARK(BM_RtnMatvec)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RtnPlainEntry)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RtnMatvecPortable)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PqMatvec)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QetMatvec)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VptqMatvec)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SgemmBatch8)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RtnMatmulBatch8)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
