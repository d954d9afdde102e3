//===- QjlScoreBench.cpp - QJL score kernel vs fp32 q*K^T and bandwidth ---===//
//
// One decode step's key scores over 32768 cached tokens of one KV head,
// d = 128, m = 256, no outliers (QJL-256: 32 sign bytes + a 2-byte fp16 norm
// = 34 B per token), single-threaded, beside:
//   - OpenBLAS cblas_sgemv on the fp32 keys (512 B per token), same run;
//   - a streaming triad a = b + s c (3 x 32 MiB), the measured bandwidth.
// "hot" variants reuse one key set (it fits the 32 MiB L3 of the machine we
// ran on); "cold" variants rotate through copies totalling more than 40 MiB
// so every call streams from memory. Rates use CPU time (single-threaded). At the end a table gives tokens/s,
// GB/s, the fraction of the triad bandwidth and the ratio vs sgemv.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Random.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);

using namespace qet::quant;

namespace {

constexpr size_t kTokens = 32768, kDim = 128, kSketch = 256;
constexpr size_t kQjlBytesPerToken = kSketch / 8 + 2;
constexpr size_t kFp32BytesPerToken = kDim * 4;

struct Data {
  JlMatrix s;
  std::vector<QjlKeys> keys; // copies for the cold runs
  std::vector<std::vector<float>> fp32; // copies of K for the cold runs
  std::vector<float> queries;           // 8 x d
};

const Data &data() {
  static const Data d = [] {
    Data out;
    QjlConfig config;
    config.sketch = kSketch;
    out.s = makeJlMatrix(kDim, kSketch, config.kind, config.seed);
    Rng rng(1);
    Matrix k(kTokens, kDim);
    for (float &v : k.values)
      v = static_cast<float>(rng.normal());
    QjlKeys keys = qjlQuantizeKeys(k, out.s, config);
    // 40 copies of 1.06 MiB and 4 of 16 MiB: both beyond a 32 MiB L3.
    out.keys.assign(40, keys);
    out.fp32.assign(4, k.values);
    out.queries.resize(8 * kDim);
    for (float &v : out.queries)
      v = static_cast<float>(rng.normal());
    return out;
  }();
  return d;
}

void BM_QjlScore(benchmark::State &state) {
  const Data &d = data();
  size_t heads = state.range(0);
  bool cold = state.range(1);
  QjlKernel kernel = state.range(2) ? QjlKernel::Avx2 : QjlKernel::Scalar;
  if (kernel == QjlKernel::Avx2 && !qjlHasAvx2()) {
    state.SkipWithError("no AVX2");
    return;
  }
  std::vector<float> scores(heads * kTokens);
  size_t copy = 0;
  for (auto _ : state) {
    const QjlKeys &keys = d.keys[cold ? copy++ % d.keys.size() : 0];
    qjlScores(keys, d.s, d.queries.data(), heads, scores.data(), 1, kernel);
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kTokens);
  state.SetBytesProcessed(int64_t(state.iterations()) * kTokens *
                          kQjlBytesPerToken);
}
BENCHMARK(BM_QjlScore)
    ->ArgNames({"heads", "cold", "avx2"})
    ->Args({1, 0, 0})
    ->Args({1, 0, 1})
    ->Args({1, 1, 1})
    ->Args({4, 0, 1})
    ->Args({4, 1, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_Sgemv(benchmark::State &state) {
  const Data &d = data();
  size_t heads = state.range(0);
  bool cold = state.range(1);
  openblas_set_num_threads(1);
  std::vector<float> scores(heads * kTokens);
  size_t copy = 0;
  for (auto _ : state) {
    const std::vector<float> &k = d.fp32[cold ? copy++ % d.fp32.size() : 0];
    if (heads == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, kTokens, kDim, 1.0f, k.data(),
                  kDim, d.queries.data(), 1, 0.0f, scores.data(), 1);
    else // GQA: the heads share K, one (tokens x d) x (d x heads) product
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kTokens, heads,
                  kDim, 1.0f, k.data(), kDim, d.queries.data(), kDim, 0.0f,
                  scores.data(), heads);
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kTokens);
  state.SetBytesProcessed(int64_t(state.iterations()) * kTokens *
                          kFp32BytesPerToken);
}
BENCHMARK(BM_Sgemv)
    ->ArgNames({"heads", "cold"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({4, 0})
    ->Args({4, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_Triad(benchmark::State &state) {
  constexpr size_t n = 8u << 20; // 3 arrays of 32 MiB
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  for (auto _ : state) {
    float s = 0.5f;
    for (size_t i = 0; i < n; ++i)
      a[i] = b[i] + s * c[i];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  // Bytes read and written (the write-allocate read is not counted).
  state.SetBytesProcessed(int64_t(state.iterations()) * n * 12);
}
BENCHMARK(BM_Triad)->Unit(benchmark::kMillisecond);

/// Collects every run so main() can print the summary table.
class Collector : public benchmark::ConsoleReporter {
public:
  std::vector<Run> runs;
  void ReportRuns(const std::vector<Run> &report) override {
    ConsoleReporter::ReportRuns(report);
    for (const Run &run : report)
      if (run.run_type == Run::RT_Iteration && !run.error_occurred)
        runs.push_back(run);
  }
};

double rate(const benchmark::BenchmarkReporter::Run &run, const char *name) {
  auto it = run.counters.find(name);
  return it == run.counters.end() ? 0.0 : double(it->second);
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  double bandwidth = 0;
  std::map<std::string, double> sgemvTime; // by "heads:cold"
  for (const auto &run : collector.runs) {
    std::string name = run.benchmark_name();
    if (name.rfind("BM_Triad", 0) == 0)
      bandwidth = rate(run, "bytes_per_second");
    if (name.rfind("BM_Sgemv", 0) == 0) {
      std::string key = name.substr(name.find("heads:") + 6, 1) + ":" +
                        name.substr(name.find("cold:") + 5, 1);
      sgemvTime[key] = run.GetAdjustedCPUTime();
    }
  }
  // Every kernel here is single-threaded, so CPU time is the kernel's time
  // even when other processes share the cores (Google Benchmark's rates are
  // per CPU second too).
  std::printf("\n| kernel | heads | keys | B/token | CPU time (us) | Mtokens/s | "
              "GB/s | of triad | speed-up vs sgemv |\n|---|---|---|---|---|---|"
              "---|---|---|\n");
  for (const auto &run : collector.runs) {
    std::string name = run.benchmark_name();
    if (name.rfind("BM_Triad", 0) == 0)
      continue;
    bool qjl = name.rfind("BM_QjlScore", 0) == 0;
    std::string heads = name.substr(name.find("heads:") + 6, 1);
    std::string cold = name.substr(name.find("cold:") + 5, 1);
    std::string kernel =
        qjl ? (name.find("avx2:1") != std::string::npos ? "qjl avx2"
                                                        : "qjl scalar")
            : (heads == "1" ? "sgemv fp32" : "sgemm fp32");
    double bytes = rate(run, "bytes_per_second");
    double time = run.GetAdjustedCPUTime();
    auto ref = sgemvTime.find(heads + ":" + cold);
    std::printf("| %s | %s | %s | %zu | %.1f | %.1f | %.2f | %.2f | %s |\n",
                kernel.c_str(), heads.c_str(), cold == "1" ? "cold" : "hot",
                qjl ? kQjlBytesPerToken : kFp32BytesPerToken, time,
                rate(run, "items_per_second") / 1e6, bytes / 1e9,
                bandwidth > 0 ? bytes / bandwidth : 0.0,
                ref != sgemvTime.end()
                    ? (std::to_string(ref->second / time).substr(0, 5) + "x")
                          .c_str()
                    : "-");
  }
  std::printf("\ntriad bandwidth: %.2f GB/s\n", bandwidth / 1e9);
  benchmark::Shutdown();
  return 0;
}
