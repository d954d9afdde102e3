//===- QuantizeModel.cpp - Quantize every weight of a checkpoint ----------===//
//
// Quantizes each 2-D tensor of a .safetensors file with one scheme under one
// bits-per-element budget (the same library entry point and options as
// qet-quantize) and writes the decoded reconstructions, so that a model can
// be run with quantized weights (scripts/real-results.sh, end-to-end cosine).
//
//   QuantizeModel IN.safetensors --scheme S --bpe B [qet-quantize options]
//       [--tensors N1,N2,...] [--hessian-map MAP] [-o OUT.safetensors]
//       [--report OUT.json]
//
// --tensors     quantize only these tensors (default: every 2-D tensor of a
//               float dtype); the output holds exactly the quantized tensors
// --hessian-map a text file of "TENSOR FILE" lines (FILE relative to the
//               map's folder): the calibration Hessian / activations of each
//               tensor (qet-quantize's --hessian, per tensor); tensors not in
//               the map use the identity
// --subvector-length DS
//               codebook schemes: M = cols / DS for each tensor (instead of
//               one --subspaces M for tensors of different widths)
// -o            reconstructions as F32 safetensors (written only when every
//               tensor met the budget)
// --report      per-tensor JSON (bpe, bits, mse, rel_error, proxy_rel,
//               params, seconds, or the error); also printed to stdout
//
// Exit status: 0 all tensors quantized; 1 a tensor could not meet the budget
// (BudgetTooSmall and other quantizer errors: the report names the tensor
// and the reason, the remaining tensors are skipped); 2 bad usage or input.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/Vptq.h"

#include <cblas.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

using namespace qet;
using namespace qet::quant;

namespace {

struct Extra {
  std::vector<std::string> tensors;
  std::string hessianMap;
  std::string output;
  std::string report;
  unsigned subvectorLength = 0;
};

const char *kUsage =
    "usage: QuantizeModel IN.safetensors --scheme S --bpe B [qet-quantize options]\n"
    "           [--tensors N1,N2,...] [--hessian-map MAP] [-o OUT.safetensors]\n"
    "           [--report OUT.json] [--subvector-length DS]\n"
    "Quantizes every 2-D tensor (or the --tensors) with one scheme and writes the\n"
    "decoded reconstructions (F32). --hessian-map: lines 'TENSOR FILE' (FILE relative\n"
    "to the map) giving each tensor's calibration Hessian. Scheme options as in\n"
    "qet-quantize --help (one scheme; no --compare, --queries, -o .qpk or --hessian).\n";

std::map<std::string, std::string> readHessianMap(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot open the Hessian map");
  std::string dir = path.find('/') == std::string::npos
                        ? std::string(".")
                        : path.substr(0, path.rfind('/'));
  std::map<std::string, std::string> map;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string tensor, file, rest;
    if (!(fields >> tensor))
      continue; // blank line
    if (!(fields >> file) || (fields >> rest))
      throw Error(path + ":" + std::to_string(number) +
                  ": expected 'TENSOR FILE', got '" + line + "'");
    map[tensor] = file[0] == '/' ? file : dir + "/" + file;
  }
  return map;
}

/// tr(dW H dW^T) / tr(W H W^T), dW = W - approx: the relative form of the
/// library's hessianProxyError (vptq.md §3; the mean-diagonal normalization
/// cancels), computed with two fp64 GEMMs instead of per-row loops.
double proxyRelative(const Matrix &w, const Matrix &approx,
                     const CalibrationHessian &h) {
  size_t m = w.rows, n = w.cols;
  std::vector<double> x(2 * m * n), y(2 * m * n);
  for (size_t i = 0; i < m * n; ++i) {
    x[i] = double(w.values[i]) - double(approx.values[i]);
    x[m * n + i] = w.values[i];
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(2 * m), int(n),
              int(n), 1.0, x.data(), int(n), h.values.data(), int(n), 0.0,
              y.data(), int(n));
  double err = 0, ref = 0;
  for (size_t i = 0; i < m * n; ++i) {
    err += x[i] * y[i];
    ref += x[m * n + i] * y[m * n + i];
  }
  return ref > 0 ? err / ref : 0.0;
}

int run(int argc, char **argv) {
  // Split our options from qet-quantize's, which its parser checks.
  Extra extra;
  std::vector<char *> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--tensors") {
      std::stringstream list(value());
      for (std::string name; std::getline(list, name, ',');)
        if (!name.empty())
          extra.tensors.push_back(name);
    } else if (arg == "--hessian-map") {
      extra.hessianMap = value();
    } else if (arg == "-o" || arg == "--output") {
      extra.output = value();
    } else if (arg == "--report") {
      extra.report = value();
    } else if (arg == "--subvector-length") {
      std::string text = value();
      char *end = nullptr;
      unsigned long ds = std::strtoul(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || ds == 0 || ds > 1u << 20)
        throw Error("--subvector-length expects a positive integer, got '" +
                    text + "'");
      extra.subvectorLength = static_cast<unsigned>(ds);
    } else if (arg == "--compare" || arg == "--queries" || arg == "--hessian" ||
               arg == "--synthetic" || arg == "--inspect" || arg == "--tensor") {
      throw Error(arg + " is not supported here (see --help)");
    } else {
      rest.push_back(argv[i]);
    }
  }
  tool::CommandLine cl =
      tool::parseCommandLine(static_cast<int>(rest.size()), rest.data());
  if (cl.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cl.schemes.size() != 1)
    throw Error("give exactly one --scheme");
  if (extra.subvectorLength && cl.options.subspaces)
    throw Error("give --subspaces or --subvector-length, not both");
  const std::string scheme = cl.schemes[0];

  std::vector<std::string> names = extra.tensors;
  std::vector<TensorInfo> infos = listSafetensors(cl.input);
  if (names.empty()) {
    for (const TensorInfo &t : infos)
      if (t.shape.size() == 2 &&
          (t.dtype == "F32" || t.dtype == "F16" || t.dtype == "BF16"))
        names.push_back(t.name);
    if (names.empty())
      throw Error(cl.input + ": no 2-D float tensor to quantize");
  }
  std::map<std::string, std::string> hessianFiles;
  if (!extra.hessianMap.empty())
    hessianFiles = readHessianMap(extra.hessianMap);
  std::map<std::string, std::shared_ptr<const CalibrationHessian>> hessians;

  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  std::vector<std::pair<std::string, Matrix>> outputs;
  int status = 0;
  double totalBits = 0, totalElements = 0, totalSeconds = 0;
  for (const std::string &name : names) {
    Matrix input = readSafetensors(cl.input, name);
    QuantizeOptions options = cl.options;
    if (extra.subvectorLength) {
      if (input.cols % extra.subvectorLength != 0)
        throw Error(name + ": " + std::to_string(input.cols) +
                    " columns are not a multiple of --subvector-length " +
                    std::to_string(extra.subvectorLength));
      options.subspaces =
          static_cast<unsigned>(input.cols / extra.subvectorLength);
    }
    auto it = hessianFiles.find(name);
    if (it != hessianFiles.end()) {
      auto &h = hessians[it->second];
      if (!h)
        h = std::make_shared<const CalibrationHessian>(
            loadCalibrationHessian(it->second));
      if (h->n != input.cols)
        throw Error(it->second + ": a " + std::to_string(h->n) + "x" +
                    std::to_string(h->n) + " Hessian for " + name + " with " +
                    std::to_string(input.cols) + " columns");
      options.hessian = h;
    }
    nlohmann::ordered_json item = {{"tensor", name},
                                   {"shape", {input.rows, input.cols}}};
    auto start = std::chrono::steady_clock::now();
    QuantizeResult result;
    try {
      result = quantize(scheme, input, options);
    } catch (const Error &e) {
      item["error"] = e.what();
      tensors.push_back(item);
      status = 1;
      break;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    ErrorMetrics error = measureError(input, result.reconstruction);
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto &[key, value] : result.params)
      params[key] = value;
    item["params"] = params;
    item["bits"] = result.packed.payloadBits();
    item["bpe"] = result.packed.bitsPerElement();
    item["mse"] = error.mse;
    item["rel_error"] = error.relFrobenius;
    if (options.hessian)
      item["proxy_rel"] =
          proxyRelative(input, result.reconstruction, *options.hessian);
    item["seconds"] = seconds;
    tensors.push_back(item);
    std::fprintf(stderr, "  %s %s: bpe %.4f rel_error %.4f (%.1f s)\n",
                 scheme.c_str(), name.c_str(),
                 result.packed.bitsPerElement(), error.relFrobenius, seconds);
    totalBits += double(result.packed.payloadBits());
    totalElements += double(input.rows * input.cols);
    totalSeconds += seconds;
    outputs.emplace_back(name, std::move(result.reconstruction));
  }

  nlohmann::ordered_json report = {{"input", cl.input},
                                   {"scheme", scheme},
                                   {"bpe_budget", cl.options.bpe},
                                   {"seed", cl.options.seed},
                                   {"ok", status == 0},
                                   {"tensors", tensors}};
  if (status == 0) {
    report["bits"] = totalBits;
    report["bpe"] = totalBits / totalElements;
    report["seconds"] = totalSeconds;
    if (!extra.output.empty())
      writeSafetensors(extra.output, outputs, DType::F32);
  }
  std::string text = report.dump(2) + "\n";
  std::cout << text;
  if (!extra.report.empty()) {
    std::ofstream out(extra.report);
    out << text;
    if (!out)
      throw Error(extra.report + ": cannot write the report");
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "QuantizeModel: error: %s\n", e.what());
    return 2;
  }
}
