//===- QuantizerBridge.cpp - The quantizer library behind a no-throw API --===//

#include "QuantizerBridge.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Scheme.h"

#include <algorithm>
#include <exception>

namespace qet::bridge {

using namespace qet::quant;

namespace {

DType dtypeOf(ElementKind kind) {
  switch (kind) {
  case ElementKind::F16:
    return DType::F16;
  case ElementKind::BF16:
    return DType::BF16;
  case ElementKind::F32:
    break;
  }
  return DType::F32;
}

/// M and Ks of a PQ model from its stream sizes.
void addPqShape(const PackedMatrix &packed, uint64_t rows,
                const std::string &prefix, std::map<std::string, int64_t> &out,
                const std::string &key) {
  const PackedStream &codes = packed.stream(prefix + "codes");
  const PackedStream &codebooks = packed.stream(prefix + "codebooks");
  out["M"] = static_cast<int64_t>(codes.count / rows);
  out[key] = static_cast<int64_t>(codebooks.count / packed.cols);
}

std::map<std::string, int64_t> attributeParams(const PackedMatrix &packed) {
  std::map<std::string, int64_t> params = packed.params;
  if (packed.scheme == "pq" || packed.scheme == "opq") {
    addPqShape(packed, packed.rows, "", params, "Ks");
  } else if (packed.scheme == "lopq") {
    std::vector<uint32_t> labels = packed.codes("labels");
    unsigned width = packed.stream("labels").bitsEach;
    size_t clusters = size_t{1} << width;
    std::vector<int64_t> rows(clusters, 0);
    for (uint32_t label : labels)
      ++rows.at(label);
    // Labels have ceil(log2 L) bits; L itself is not stored, so the
    // attribute lists all 2^bits clusters (the extra ones are empty).
    params["clusters"] = static_cast<int64_t>(clusters);
    for (size_t c = 0; c < clusters; ++c) {
      std::string prefix = lopqClusterPrefix(c);
      params[prefix + "rows"] = rows[c];
      params[prefix + "Ks"] = 0;
      if (rows[c])
        addPqShape(packed, static_cast<uint64_t>(rows[c]), prefix, params,
                   prefix + "Ks");
    }
  }
  return params;
}

} // namespace

QuantizedWeight quantizeWeight(const WeightMatrix &weight,
                               const WeightOptions &options) {
  QuantizedWeight out;
  try {
    Matrix input(weight.rows, weight.cols, dtypeOf(weight.kind));
    input.values = weight.values;
    QuantizeOptions q;
    q.bpe = options.bpe;
    q.bits = options.bits;
    q.group = options.group;
    q.subspaces = options.subspaces;
    q.depths = options.depths;
    q.seed = options.seed;
    q.threads = options.threads;
    QuantizeResult result = quantize(options.scheme, input, q);
    out.scheme = result.packed.scheme;
    out.params = attributeParams(result.packed);
    for (PackedStream &s : result.packed.streams)
      out.streams.push_back({s.component, s.bitsEach, s.count, std::move(s.bytes)});
    for (const auto &[key, value] : result.params)
      out.summary += (out.summary.empty() ? "" : ", ") + key + " = " + value;
    out.bpe = result.packed.bitsPerElement();
    ErrorMetrics error = measureError(input, result.reconstruction);
    out.mse = error.mse;
    out.relFrobenius = error.relFrobenius;
  } catch (const BudgetTooSmall &e) {
    out.error = e.what();
    out.budgetTooSmall = true;
  } catch (const std::exception &e) {
    out.error = e.what();
  }
  return out;
}

std::string schemeList() {
  std::string text;
  for (const std::string &name : schemeNames())
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool isScheme(const std::string &name) {
  std::vector<std::string> names = schemeNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string writeContainer(const std::string &path,
                           const std::vector<runtime::TensorData> &tensors,
                           bool replace) {
  try {
    runtime::writeContainer(path, tensors, replace);
    return {};
  } catch (const std::exception &e) {
    return e.what();
  }
}

} // namespace qet::bridge
