//===- QetAttrs.cpp - Scheme attributes of the qet dialect ----------------===//

#include "qet/Dialect/Qet/IR/QetAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::qet;

//===----------------------------------------------------------------------===//
// RtnAttr
//===----------------------------------------------------------------------===//

static constexpr unsigned kRtnMaxBits = 8;

LogicalResult RtnAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, uint64_t group, bool) {
  if (bits < 1 || bits > kRtnMaxBits)
    return emitError() << "#qet.rtn: bits must be in [1, " << kRtnMaxBits
                       << "], got " << bits;
  if (group < 1)
    return emitError() << "#qet.rtn: group must be >= 1, got " << group;
  return success();
}

// #qet.rtn<bits = B, group = G[, symmetric = true|false]>
Attribute RtnAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  auto expectField = [&](StringRef name, auto &value) -> ParseResult {
    if (parser.parseOptionalKeyword(name))
      return parser.emitError(parser.getCurrentLocation())
             << "#qet.rtn expects '" << name << " = <integer>' here";
    return failure(parser.parseEqual() || parser.parseInteger(value));
  };
  unsigned bits = 0;
  uint64_t group = 0;
  bool symmetric = false;
  if (parser.parseLess() || expectField("bits", bits))
    return {};
  if (parser.parseOptionalComma()) {
    parser.emitError(parser.getCurrentLocation())
        << "#qet.rtn expects ', group = <integer>' after 'bits'";
    return {};
  }
  if (expectField("group", group))
    return {};
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("symmetric") || parser.parseEqual())
      return {};
    if (succeeded(parser.parseOptionalKeyword("true"))) {
      symmetric = true;
    } else if (failed(parser.parseOptionalKeyword("false"))) {
      parser.emitError(parser.getCurrentLocation(),
                       "expected 'true' or 'false' for 'symmetric'");
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<RtnAttr>(loc, parser.getContext(), bits, group,
                                    symmetric);
}

void RtnAttr::print(AsmPrinter &printer) const {
  printer << "<bits = " << getBits() << ", group = " << getGroup()
          << ", symmetric = " << (getSymmetric() ? "true" : "false") << ">";
}

int64_t RtnAttr::getNumGroups(int64_t rowLength) const {
  int64_t group = static_cast<int64_t>(getGroup());
  return (rowLength + group - 1) / group;
}

int64_t RtnAttr::getMinCode() const {
  return getSymmetric() ? -(int64_t{1} << (getBits() - 1)) : 0;
}

int64_t RtnAttr::getMaxCode() const {
  return getSymmetric() ? (int64_t{1} << (getBits() - 1)) - 1
                        : (int64_t{1} << getBits()) - 1;
}

uint64_t RtnAttr::getStorageBits(int64_t rows, int64_t rowLength) const {
  uint64_t metadataBits = getSymmetric() ? 16 : 32;
  return static_cast<uint64_t>(rows) *
         (static_cast<uint64_t>(rowLength) * getBits() +
          metadataBits * static_cast<uint64_t>(getNumGroups(rowLength)));
}

void RtnAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &params) const {
  params["bits"] = getBits();
  params["group"] = static_cast<int64_t>(getGroup());
  params["symmetric"] = getSymmetric();
}

std::string RtnAttr::getLibraryScheme() const {
  return getSymmetric() ? "rtn-sym" : "rtn";
}

LogicalResult
RtnAttr::verifyMatrix(int64_t, int64_t, Type,
                      function_ref<InFlightDiagnostic()>) const {
  return success(); // any shape: the last group may be shorter
}

SmallVector<StorageComponent> RtnAttr::getComponents(int64_t rows, int64_t cols,
                                                     Type) const {
  uint64_t groups = static_cast<uint64_t>(rows) * getNumGroups(cols);
  SmallVector<StorageComponent> components = {
      {"codes", getBits(), static_cast<uint64_t>(rows * cols)},
      {"scales", 16, groups}};
  if (!getSymmetric())
    components.push_back({"zero_points", 16, groups});
  return components;
}
