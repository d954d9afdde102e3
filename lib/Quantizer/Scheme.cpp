//===- Scheme.cpp - One entry point for every quantization scheme ---------===//

#include "qet/Quantizer/Scheme.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Qet.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/Quantizer/Rtn.h"
#include "qet/Quantizer/Vptq.h"

namespace qet::quant {

namespace {
struct SchemeEntry {
  const char *name;
  QuantizeResult (*run)(const Matrix &, const QuantizeOptions &);
};

QuantizeResult runRtn(const Matrix &m, const QuantizeOptions &o) {
  return quantizeRtn(m, o, /*symmetric=*/false);
}
QuantizeResult runRtnSym(const Matrix &m, const QuantizeOptions &o) {
  return quantizeRtn(m, o, /*symmetric=*/true);
}

const SchemeEntry kSchemes[] = {
    {"rtn", runRtn},          {"rtn-sym", runRtnSym}, {"pq", quantizePq},
    {"opq", quantizeOpq},     {"lopq", quantizeLopq}, {"hera", quantizeHera},
    {"qet", quantizeQet},     {"qjl", quantizeQjl},
    {"vptq", quantizeVptq},
};
} // namespace

std::vector<std::string> schemeNames() {
  std::vector<std::string> names;
  for (const SchemeEntry &entry : kSchemes)
    names.push_back(entry.name);
  return names;
}

QuantizeResult quantize(const std::string &scheme, const Matrix &input,
                        const QuantizeOptions &options) {
  for (const SchemeEntry &entry : kSchemes) {
    if (scheme == entry.name) {
      if (input.rows == 0 || input.cols == 0)
        throw Error(scheme + ": the input matrix is empty (" +
                    std::to_string(input.rows) + "x" +
                    std::to_string(input.cols) + ")");
      // Each scheme checks its input for NaN/Inf itself (direct callers of
      // quantizePq & co. need that too), so no second scan here.
      return entry.run(input, options);
    }
  }
  std::string known;
  for (const std::string &name : schemeNames())
    known += (known.empty() ? "" : ", ") + name;
  throw Error("unknown scheme '" + scheme + "'; known schemes: " + known);
}

} // namespace qet::quant
