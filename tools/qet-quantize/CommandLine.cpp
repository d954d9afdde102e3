//===- CommandLine.cpp - qet-quantize's options ---------------------------===//

#include "CommandLine.h"

#include "qet/Quantizer/Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace qet::tool {

using quant::Error;

std::string usage() {
  return R"(usage: qet-quantize INPUT [--tensor NAME] --scheme S --bpe B [options]
       qet-quantize --synthetic FAMILY --shape ROWSxCOLS [--data-seed N] --scheme S ...
       qet-quantize INPUT --list

Quantizes one matrix (rows = vectors, e.g. weight output rows or cache tokens)
and reports the exact bits per element (every stored bit counted) and errors.

input:
  INPUT                  .npy (f4/f2, C order) or .safetensors (F32/F16/BF16)
  --tensor NAME          tensor of a .safetensors file (optional if it has one)
  --list                 list the tensors of a .safetensors file and exit
  --synthetic FAMILY     gaussian | laplace | student-t | outlier-columns (sigma 0.02)
  --shape ROWSxCOLS      shape of the synthetic matrix
  --data-seed N          seed of the synthetic matrix (default 1)
  --queries FILE         query vectors (rows, same width): adds the inner-product error

schemes:
  --scheme S             one of: rtn, rtn-sym, pq, opq, lopq
  --compare S1,S2,...    more schemes to run on the same matrix and budget
  --bpe B                bits-per-element budget; every scheme stays <= B

scheme options (unset ones are chosen under the budget and reported):
  --bits N               rtn: code width 1..8 (default: largest that fits)
  --group G              rtn: group length (default 128)
  --subspaces M          pq/opq/lopq: subspaces (default: search powers of two)
  --max-centroids K      pq/opq/lopq: cap on the codebook size (default: rows)
  --iterations T         Lloyd iterations (default 20)
  --opq-rounds P         OPQ rotation rounds (default 10)
  --lopq-clusters L      LOPQ coarse clusters (default 2)
  --seed N               quantizer seed (default 123)
  --threads N            worker threads (default: all cores; results do not change)

output:
  --json                 print a JSON list instead of a table
  -h, --help             this text
)";
}

static uint64_t parseUnsigned(const std::string &flag, const std::string &text) {
  errno = 0;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
    throw Error(flag + " expects a non-negative integer, got '" + text + "'");
  return value;
}

static double parsePositive(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value <= 0)
    throw Error(flag + " expects a positive number, got '" + text + "'");
  return value;
}

static unsigned parseSmall(const std::string &flag, const std::string &text) {
  uint64_t value = parseUnsigned(flag, text);
  if (value > 1u << 30)
    throw Error(flag + " is too large: " + text);
  return static_cast<unsigned>(value);
}

static void addScheme(CommandLine &cl, const std::string &name) {
  if (name.empty())
    throw Error("empty scheme name in --scheme/--compare");
  if (std::find(cl.schemes.begin(), cl.schemes.end(), name) == cl.schemes.end())
    cl.schemes.push_back(name);
}

CommandLine parseCommandLine(int argc, char **argv) {
  CommandLine cl;
  std::string scheme;
  std::vector<std::string> compare;
  bool haveBpe = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      cl.help = true;
    } else if (arg == "--tensor") {
      cl.tensor = value();
    } else if (arg == "--list") {
      cl.listTensors = true;
    } else if (arg == "--synthetic") {
      cl.synthetic = value();
    } else if (arg == "--shape") {
      std::string text = value();
      size_t x = text.find('x');
      if (x == std::string::npos)
        throw Error("--shape expects ROWSxCOLS, got '" + text + "'");
      cl.rows = parseUnsigned("--shape", text.substr(0, x));
      cl.cols = parseUnsigned("--shape", text.substr(x + 1));
    } else if (arg == "--data-seed") {
      cl.dataSeed = parseUnsigned(arg, value());
    } else if (arg == "--queries") {
      cl.queries = value();
    } else if (arg == "--scheme") {
      scheme = value();
    } else if (arg == "--compare") {
      std::stringstream list(value());
      for (std::string name; std::getline(list, name, ',');)
        compare.push_back(name);
    } else if (arg == "--bpe") {
      cl.options.bpe = parsePositive(arg, value());
      haveBpe = true;
    } else if (arg == "--bits") {
      cl.options.bits = parseSmall(arg, value());
    } else if (arg == "--group") {
      cl.options.group = parseSmall(arg, value());
    } else if (arg == "--subspaces") {
      cl.options.subspaces = parseSmall(arg, value());
    } else if (arg == "--max-centroids") {
      cl.options.maxCentroids = parseUnsigned(arg, value());
    } else if (arg == "--iterations") {
      cl.options.iterations = parseSmall(arg, value());
    } else if (arg == "--opq-rounds") {
      cl.options.opqRounds = parseSmall(arg, value());
    } else if (arg == "--lopq-clusters") {
      cl.options.lopqClusters = parseSmall(arg, value());
    } else if (arg == "--seed") {
      cl.options.seed = parseUnsigned(arg, value());
    } else if (arg == "--threads") {
      cl.options.threads = parseSmall(arg, value());
    } else if (arg == "--json") {
      cl.json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw Error("unknown option '" + arg + "' (see --help)");
    } else if (cl.input.empty()) {
      cl.input = arg;
    } else {
      throw Error("more than one input file: '" + cl.input + "' and '" + arg + "'");
    }
  }
  if (cl.help)
    return cl;
  if (cl.input.empty() == cl.synthetic.empty())
    throw Error("give exactly one input: a file or --synthetic FAMILY (see --help)");
  if (!cl.synthetic.empty() && (cl.rows == 0 || cl.cols == 0))
    throw Error("--synthetic needs --shape ROWSxCOLS with both sizes >= 1");
  if (cl.listTensors)
    return cl;
  if (!scheme.empty())
    addScheme(cl, scheme);
  for (const std::string &name : compare)
    addScheme(cl, name);
  if (cl.schemes.empty())
    throw Error("no scheme given: use --scheme S (and optionally --compare)");
  if (!haveBpe && !(cl.schemes.size() == 1 && cl.options.bits &&
                    cl.schemes[0].rfind("rtn", 0) == 0))
    throw Error("--bpe B is required (only a single rtn scheme with --bits can do without)");
  return cl;
}

} // namespace qet::tool
