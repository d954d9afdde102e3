//===- CommandLine.cpp - qet-quantize's options ---------------------------===//

#include "CommandLine.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Vptq.h"

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
       qet-quantize --inspect FILE.qpk

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
  --scheme S             one of: rtn, rtn-sym, pq, opq, lopq, hera, qet, qjl, vptq
  --compare S1,S2,...    more schemes to run on the same matrix and budget
  --bpe B                bits-per-element budget; every scheme stays <= B

scheme options (unset ones are chosen under the budget and reported):
  --bits N               rtn: code width 1..8 (default: largest that fits)
  --group G              rtn: group length (default 128)
  --subspaces M          pq/opq/lopq/hera/qet: subspaces (default: search powers of two)
  --max-centroids K      pq/opq/lopq/hera/qet: cap on the codebook size (default: rows)
  --depth L1[,L2,...]    hera/qet: swap-tree depth per stage (default: search 0..3
                         for the first stage, 0 for later ones)
  --stages S             qet: residual stages (default: list length, else 2)
  --split R1,R2,...      qet: budget share per stage, sum <= 1 (default: search)
  --codebook-bits B1,... qet: codebook bits per stage, 0 = float (default 10 each)
  --iterations T         Lloyd iterations (default 20)
  --opq-rounds P         OPQ rotation rounds (default 10)
  --lopq-clusters L      LOPQ coarse clusters (default 2)
  --sketch M             qjl: sign bits per key token, a multiple of 8 (default: 256,
                         or the largest that fits --bpe when one is given)
  --outliers K           qjl: outlier channels per token group (default 0)
  --outlier-sketch M     qjl: outlier sign bits per token (default: --sketch)
  --group-tokens G       qjl: tokens per outlier group (default 32)
  --matrix KIND          qjl: JL matrix, orthogonal | gaussian (default orthogonal)
                         (qjl needs no --bpe; mse is that of the estimator's implied
                         keys; with --queries the JSON adds ip_mse and ip_rel)
  --vector-length V      vptq: v output rows per vector, 1..16 (default 8)
  --centroids K          vptq: codebook size, a power of two <= 65536 (default:
                         largest that fits --bpe)
  --residual-centroids K vptq: residual codebook size, a power of two (default: none)
  --outlier-percent P    vptq: share of input columns (highest H_jj) with their
                         own codebook (default 0)
  --outlier-vector-length V, --outlier-centroids K
                         vptq: the outlier codebook (default 4 and --centroids)
  --groups G             vptq: column groups, one codebook each (default 1)
  --normalize            vptq: per-column fp16 scale and bias
  --hessian FILE         vptq: calibration data (.npy/.safetensors): an N x N
                         symmetric matrix is H = E[x x^T] itself, anything else
                         is activations [tokens, N]; adds the proxy error
                         tr(dW H dW^T) (H normalized to mean diagonal 1) to
                         every scheme's report (default: identity H)
  --seed N               quantizer seed (default 123)
  --threads N            worker threads (default: all cores; results do not change)

output:
  --json                 print a JSON list instead of a table
  -o FILE.qpk            write the packed results to a .qpk container (one tensor
                         per scheme; an existing file is kept unless --force)
  --force                let -o replace an existing file
  --inspect FILE.qpk     list a container's tensors and verify every checksum
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

template <typename T>
static std::vector<T> parseList(const std::string &flag, const std::string &text,
                                T (*parse)(const std::string &,
                                           const std::string &)) {
  std::vector<T> values;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');)
    values.push_back(parse(flag, item));
  if (values.empty() || text.back() == ',')
    throw Error(flag + " expects a comma-separated list, got '" + text + "'");
  return values;
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
    } else if (arg == "--depth") {
      cl.options.depths = parseList<unsigned>(arg, value(), parseSmall);
    } else if (arg == "--stages") {
      cl.options.stages = parseSmall(arg, value());
    } else if (arg == "--split") {
      cl.options.split = parseList<double>(arg, value(), parsePositive);
    } else if (arg == "--codebook-bits") {
      cl.options.codebookBits = parseList<unsigned>(arg, value(), parseSmall);
    } else if (arg == "--sketch") {
      cl.options.sketch = parseSmall(arg, value());
    } else if (arg == "--outliers") {
      cl.options.outliers = parseSmall(arg, value());
    } else if (arg == "--outlier-sketch") {
      cl.options.outlierSketch = parseSmall(arg, value());
    } else if (arg == "--group-tokens") {
      cl.options.groupTokens = parseSmall(arg, value());
    } else if (arg == "--matrix") {
      cl.options.jlMatrix = value();
    } else if (arg == "--vector-length") {
      cl.options.vectorLength = parseSmall(arg, value());
    } else if (arg == "--centroids") {
      cl.options.centroids = parseUnsigned(arg, value());
    } else if (arg == "--residual-centroids") {
      cl.options.residualCentroids = parseUnsigned(arg, value());
    } else if (arg == "--outlier-percent") {
      cl.options.outlierPercent = parsePositive(arg, value());
    } else if (arg == "--outlier-vector-length") {
      cl.options.outlierVectorLength = parseSmall(arg, value());
    } else if (arg == "--outlier-centroids") {
      cl.options.outlierCentroids = parseUnsigned(arg, value());
    } else if (arg == "--groups") {
      cl.options.groups = parseSmall(arg, value());
    } else if (arg == "--normalize") {
      cl.options.vptqNormalize = true;
    } else if (arg == "--hessian") {
      // Loaded here (fp64 accumulation for activations), checked against
      // the weight's width when a scheme runs.
      cl.options.hessian = std::make_shared<const quant::CalibrationHessian>(
          quant::loadCalibrationHessian(value()));
    } else if (arg == "--seed") {
      cl.options.seed = parseUnsigned(arg, value());
    } else if (arg == "--threads") {
      cl.options.threads = parseSmall(arg, value());
    } else if (arg == "--json") {
      cl.json = true;
    } else if (arg == "-o" || arg == "--output") {
      cl.output = value();
    } else if (arg == "--force") {
      cl.replaceOutput = true;
    } else if (arg == "--inspect") {
      cl.inspect = value();
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
  if (!cl.inspect.empty()) {
    if (!cl.input.empty() || !cl.synthetic.empty() || !scheme.empty() ||
        !compare.empty())
      throw Error("--inspect takes only the container to inspect");
    return cl;
  }
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
  bool onlyQjl = std::all_of(cl.schemes.begin(), cl.schemes.end(),
                             [](const std::string &s) { return s == "qjl"; });
  if (!haveBpe && !onlyQjl && !(cl.schemes.size() == 1 && cl.options.bits &&
                    cl.schemes[0].rfind("rtn", 0) == 0))
    throw Error("--bpe B is required (only a single rtn scheme with --bits can do without)");
  return cl;
}

} // namespace qet::tool
