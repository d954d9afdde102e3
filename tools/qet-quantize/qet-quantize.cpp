//===- qet-quantize.cpp - Quantize a matrix and report its errors ---------===//
//
// Reads one matrix (.npy, .safetensors or a synthetic family), runs one or
// more schemes under the same bits-per-element budget and prints, per scheme,
// the parameters chosen, the exact bpe, MSE, MAE, relative Frobenius error
// and the time taken, as a table or as JSON.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "Inspect.h"
#include "Progress.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"
#include "qet/Quantizer/Vptq.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include <unistd.h>

using namespace qet;
using namespace qet::quant;

namespace {

struct Row {
  std::string scheme;
  std::string failure; // the scheme's error message, if it failed
  QuantizeResult result;
  ErrorMetrics error;
  std::optional<double> innerProduct;
  /// ip_mse / ip_rel (--queries): for qjl from the packed estimator itself.
  std::optional<InnerProductStats> ipStats;
  /// --hessian: tr(dW H_m dW^T) and its relative form (vptq.md §3).
  std::optional<ProxyError> proxy;
  double seconds = 0;
};

std::string paramsText(const QuantizeResult &result) {
  std::string text;
  for (const auto &[key, value] : result.params)
    text += (text.empty() ? "" : " ") + key + "=" + value;
  return text;
}

Matrix loadInput(const tool::CommandLine &cl) {
  if (!cl.synthetic.empty())
    return makeSynthetic(parseFamily(cl.synthetic), cl.rows, cl.cols,
                         cl.dataSeed);
  return readMatrix(cl.input, cl.tensor);
}

/// The container tensor name of a result: the input tensor's name (or the
/// file's stem), suffixed with ":scheme" when several schemes ran.
std::string tensorName(const tool::CommandLine &cl, const std::string &scheme) {
  std::string base = cl.tensor;
  if (base.empty() && !cl.input.empty()) {
    base = cl.input.substr(cl.input.rfind('/') + 1);
    base = base.substr(0, base.rfind('.'));
  }
  if (base.empty())
    base = "synthetic." + cl.synthetic;
  return cl.schemes.size() > 1 ? base + ":" + scheme : base;
}

void writeOutput(const tool::CommandLine &cl, const std::vector<Row> &rows) {
  std::vector<std::pair<std::string, const PackedMatrix *>> matrices;
  for (const Row &row : rows)
    if (row.failure.empty())
      matrices.emplace_back(tensorName(cl, row.scheme), &row.result.packed);
  if (matrices.empty())
    throw Error("no scheme succeeded; nothing written to " + cl.output);
  writePackedMatrices(cl.output, matrices, cl.replaceOutput);
}

void printTable(const Matrix &input, const std::vector<Row> &rows) {
  std::printf("input: %zux%zu %s\n", input.rows, input.cols,
              dtypeName(input.storage));
  bool withIp = false;
  for (const Row &row : rows)
    withIp |= row.innerProduct.has_value();
  bool withProxy = false;
  for (const Row &row : rows)
    withProxy |= row.proxy.has_value();
  std::printf("%-8s %8s %12s %12s %10s %s%s%8s  %s\n", "scheme", "bpe", "mse",
              "mae", "rel_error", withIp ? "  ip_error " : "",
              withProxy ? "   proxy_err  proxy_rel " : "", "seconds", "params");
  for (const Row &row : rows) {
    if (!row.failure.empty()) {
      std::printf("%-8s error: %s\n", row.scheme.c_str(), row.failure.c_str());
      continue;
    }
    std::printf("%-8s %8.4f %12.4e %12.4e %10.4f ", row.result.scheme.c_str(),
                row.result.packed.bitsPerElement(), row.error.mse,
                row.error.mae, row.error.relFrobenius);
    if (withIp)
      std::printf("%10.4e ", *row.innerProduct);
    if (withProxy)
      std::printf("%12.4e %10.4f ", row.proxy->proxy, row.proxy->relative);
    std::printf("%8.3f  %s\n", row.seconds, paramsText(row.result).c_str());
  }
}

void printJson(const Matrix &input, const std::vector<Row> &rows) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Row &row : rows) {
    if (!row.failure.empty()) {
      list.push_back({{"scheme", row.scheme}, {"error", row.failure}});
      continue;
    }
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto &[key, value] : row.result.params)
      params[key] = value;
    nlohmann::ordered_json ledger = nlohmann::ordered_json::array();
    Ledger stored = row.result.packed.ledger();
    for (const LedgerEntry &entry : stored.entries())
      ledger.push_back({{"component", entry.component},
                        {"count", entry.count},
                        {"bits_each", entry.bitsEach}});
    nlohmann::ordered_json item = {
        {"scheme", row.result.scheme},
        {"params", params},
        {"shape", {input.rows, input.cols}},
        {"dtype", dtypeName(input.storage)},
        {"bits", row.result.packed.payloadBits()},
        {"bpe", row.result.packed.bitsPerElement()},
        {"mse", row.error.mse},
        {"mae", row.error.mae},
        {"rel_error", row.error.relFrobenius},
        {"max_abs_error", row.error.maxAbs},
        {"seconds", row.seconds},
        {"ledger", ledger}};
    if (row.innerProduct)
      item["ip_error"] = *row.innerProduct;
    if (row.proxy) {
      item["proxy_error"] = row.proxy->proxy;
      item["proxy_rel"] = row.proxy->relative;
    }
    if (row.ipStats) {
      item["ip_mse"] = row.ipStats->mse;
      item["ip_rel"] = row.ipStats->rel;
    }
    if (row.result.scheme == "qjl") // keys are never reconstructed
      item["mse_of"] = "k_hat, the estimator's implied keys (qjl.md 4)";
    list.push_back(item);
  }
  std::cout << list.dump(2) << "\n";
}

int run(const tool::CommandLine &cl) {
  if (!cl.inspect.empty())
    return tool::inspectContainer(cl.inspect);
  if (cl.listTensors) {
    for (const TensorInfo &t : listSafetensors(cl.input)) {
      std::string shape;
      for (uint64_t dim : t.shape)
        shape += (shape.empty() ? "" : "x") + std::to_string(dim);
      std::printf("%-60s %-5s %s\n", t.name.c_str(), t.dtype.c_str(),
                  shape.c_str());
    }
    return 0;
  }
  // Refuse before a possibly long quantization, not after it.
  if (!cl.output.empty() && !cl.replaceOutput && access(cl.output.c_str(), F_OK) == 0)
    throw Error(cl.output + ": exists; pass --force to replace it");
  Matrix input = loadInput(cl);
  std::optional<Matrix> queries;
  if (!cl.queries.empty())
    queries = readMatrix(cl.queries);
  if (cl.options.hessian && cl.options.hessian->n != input.cols)
    throw Error("--hessian gives a " + std::to_string(cl.options.hessian->n) +
                "x" + std::to_string(cl.options.hessian->n) +
                " H, but the input has " + std::to_string(input.cols) +
                " columns (H must be cols x cols)");

  // A scheme that cannot run (say, a budget below its minimum) is reported
  // in its row; the others still run, and the exit status is 1.
  std::vector<Row> rows;
  int status = 0;
  for (const std::string &scheme : cl.schemes) {
    QuantizeOptions options = cl.options;
    tool::Progress progress(scheme);
    options.progress = [&](double fraction) { progress.update(fraction); };
    auto start = std::chrono::steady_clock::now();
    Row row;
    row.scheme = scheme;
    try {
      row.result = quantize(scheme, input, options);
    } catch (const Error &e) {
      row.failure = e.what();
      status = 1;
      rows.push_back(std::move(row));
      continue;
    }
    row.seconds = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    row.error = measureError(input, row.result.reconstruction);
    if (queries)
      row.innerProduct =
          innerProductError(input, row.result.reconstruction, *queries);
    if (cl.options.hessian)
      row.proxy = hessianProxyError(input, row.result.reconstruction,
                                    cl.options.hessian.get(),
                                    cl.options.threads);
    if (queries)
      row.ipStats = keyInnerProductStats(input, row.result, *queries,
                                         cl.options.threads);
    rows.push_back(std::move(row));
  }
  if (cl.json)
    printJson(input, rows);
  else
    printTable(input, rows);
  if (!cl.output.empty())
    writeOutput(cl, rows);
  return status;
}

} // namespace

int main(int argc, char **argv) {
  tool::CommandLine cl;
  try {
    cl = tool::parseCommandLine(argc, argv);
  } catch (const Error &e) {
    std::fprintf(stderr, "qet-quantize: error: %s\n", e.what());
    return 2;
  }
  if (cl.help) {
    std::fputs(tool::usage().c_str(), stdout);
    return 0;
  }
  try {
    return run(cl);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "qet-quantize: error: %s\n", e.what());
    return 1;
  }
}
