//===- CommandLine.h - qet-quantize's options -------------------*- C++ -*-===//
#ifndef QET_TOOLS_QETQUANTIZE_COMMANDLINE_H
#define QET_TOOLS_QETQUANTIZE_COMMANDLINE_H

#include "qet/Quantizer/Scheme.h"

#include <optional>
#include <string>
#include <vector>

namespace qet::tool {

struct CommandLine {
  /// A .npy or .safetensors file, or empty with `synthetic` set.
  std::string input;
  std::string tensor;
  /// "FAMILY" of makeSynthetic with `shape` and `dataSeed`.
  std::string synthetic;
  size_t rows = 0, cols = 0;
  uint64_t dataSeed = 1;
  /// Matrix of query vectors for the inner-product error (optional).
  std::string queries;
  /// The schemes to run, in order (--scheme then --compare, no repeats).
  std::vector<std::string> schemes;
  quant::QuantizeOptions options;
  /// .qpk container to write the packed results to (-o), and whether an
  /// existing file may be replaced (--force).
  std::string output;
  bool replaceOutput = false;
  /// .qpk container to list and verify (--inspect), instead of quantizing.
  std::string inspect;
  bool json = false;
  bool listTensors = false;
  bool help = false;
};

/// Parses argv; throws quant::Error with a usage message on bad input.
CommandLine parseCommandLine(int argc, char **argv);

/// The --help text.
std::string usage();

} // namespace qet::tool

#endif // QET_TOOLS_QETQUANTIZE_COMMANDLINE_H
