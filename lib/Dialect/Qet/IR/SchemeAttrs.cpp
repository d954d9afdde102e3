//===- SchemeAttrs.cpp - Codebook, VPTQ and QJL scheme attributes ---------===//
//
// Verifiers and storage layouts of #qet.pq, #qet.lopq, #qet.hera, #qet.qet,
// #qet.vq and #qet.qjl. Component names, widths and counts match the
// quantizer library's packers (lib/Quantizer/*), whose stream prefixes and
// index widths they use, so a qet.constant holds exactly the streams the
// library writes.
//
//===----------------------------------------------------------------------===//

#include "qet/Dialect/Qet/IR/QetAttrs.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Qet.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::qet;

unsigned mlir::qet::floatStorageBits(Type elementType) {
  return elementType.isF32() ? 32 : 16;
}

static uint64_t u64(int64_t value) { return static_cast<uint64_t>(value); }

/// Checks that `subspaces` divides the row length.
static LogicalResult verifySubspaces(StringRef attr, uint64_t subspaces,
                                     int64_t cols,
                                     function_ref<InFlightDiagnostic()> emitError) {
  if (u64(cols) % subspaces)
    return emitError() << attr << ": subspaces = " << subspaces
                       << " does not divide the row length " << cols;
  return success();
}

/// Codebook + codes of one PQ model over `rows` rows.
static void appendPq(SmallVectorImpl<StorageComponent> &out,
                     const std::string &prefix, uint64_t rows, uint64_t cols,
                     uint64_t subspaces, uint64_t centroids, unsigned fbits) {
  out.push_back({prefix + "codebooks", fbits, centroids * cols});
  out.push_back({prefix + "codes", ::qet::quant::indexBits(centroids),
                 rows * subspaces});
}

static void appendSwapBits(SmallVectorImpl<StorageComponent> &out,
                           const std::string &name, uint64_t rows,
                           uint64_t cols, int64_t depth) {
  if (depth > 0)
    out.push_back({name, 1, rows * u64(depth) * (cols / 2)});
}

static LogicalResult verifyDepth(StringRef attr, int64_t depth, int64_t cols,
                                 function_ref<InFlightDiagnostic()> emitError) {
  if (depth < 0 || depth > 31)
    return emitError() << attr << ": swap-tree depth must be in [0, 31], got "
                       << depth;
  if (depth > 0 && u64(cols) % (uint64_t{1} << depth))
    return emitError() << attr << ": swap-tree depth " << depth
                       << " needs a row length divisible by 2^" << depth
                       << ", got " << cols;
  return success();
}

//===----------------------------------------------------------------------===//
// #qet.pq
//===----------------------------------------------------------------------===//

LogicalResult PqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             uint64_t subspaces, uint64_t centroids, bool) {
  if (subspaces < 1)
    return emitError() << "#qet.pq: subspaces must be >= 1";
  if (centroids < 1 || centroids > (uint64_t{1} << 32))
    return emitError() << "#qet.pq: centroids must be in [1, 2^32], got "
                       << centroids;
  return success();
}

std::string PqAttr::getLibraryScheme() const {
  return getRotated() ? "opq" : "pq";
}

void PqAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &) const {
  // The library infers M and Ks from the stream sizes.
}

LogicalResult
PqAttr::verifyMatrix(int64_t rows, int64_t cols, Type,
                     function_ref<InFlightDiagnostic()> emitError) const {
  if (u64(rows) < getCentroids())
    return emitError() << "#qet.pq: centroids = " << getCentroids()
                       << " exceeds the " << rows << " rows";
  return verifySubspaces("#qet.pq", getSubspaces(), cols, emitError);
}

SmallVector<StorageComponent> PqAttr::getComponents(int64_t rows, int64_t cols,
                                                    Type elementType) const {
  SmallVector<StorageComponent> out;
  unsigned fbits = floatStorageBits(elementType);
  if (getRotated())
    out.push_back({"rotation", fbits, u64(cols) * u64(cols)});
  appendPq(out, "", u64(rows), u64(cols), getSubspaces(), getCentroids(),
           fbits);
  return out;
}

//===----------------------------------------------------------------------===//
// #qet.lopq
//===----------------------------------------------------------------------===//

LogicalResult LopqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               uint64_t subspaces, DenseI64ArrayAttr clusterRows,
                               DenseI64ArrayAttr clusterCentroids) {
  if (subspaces < 1)
    return emitError() << "#qet.lopq: subspaces must be >= 1";
  if (clusterRows.empty() || clusterRows.size() != clusterCentroids.size())
    return emitError() << "#qet.lopq: cluster_rows and cluster_centroids need "
                          "one entry per cluster (got "
                       << clusterRows.size() << " and "
                       << clusterCentroids.size() << ")";
  for (auto [c, rows, ks] :
       llvm::enumerate(clusterRows.asArrayRef(), clusterCentroids.asArrayRef())) {
    if (rows < 0 || ks < 0 || ks > rows || (rows > 0 && ks == 0))
      return emitError() << "#qet.lopq: cluster " << c << " has " << rows
                         << " rows and " << ks
                         << " centroids (need 1 <= centroids <= rows, or 0 "
                            "and 0 for an empty cluster)";
  }
  return success();
}

std::string LopqAttr::getLibraryScheme() const { return "lopq"; }

void LopqAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &) const {}

LogicalResult
LopqAttr::verifyMatrix(int64_t rows, int64_t cols, Type,
                       function_ref<InFlightDiagnostic()> emitError) const {
  int64_t total = 0;
  for (int64_t r : getClusterRows().asArrayRef())
    total += r;
  if (total != rows)
    return emitError() << "#qet.lopq: cluster_rows add up to " << total
                       << ", not the " << rows << " rows";
  return verifySubspaces("#qet.lopq", getSubspaces(), cols, emitError);
}

SmallVector<StorageComponent>
LopqAttr::getComponents(int64_t rows, int64_t cols, Type elementType) const {
  unsigned fbits = floatStorageBits(elementType);
  ArrayRef<int64_t> clusterRows = getClusterRows().asArrayRef();
  SmallVector<StorageComponent> out = {
      {"labels", ::qet::quant::indexBits(clusterRows.size()), u64(rows)}};
  for (auto [c, n, ks] :
       llvm::enumerate(clusterRows, getClusterCentroids().asArrayRef())) {
    if (n == 0)
      continue; // an empty cluster stores nothing
    std::string prefix = ::qet::quant::lopqClusterPrefix(c);
    out.push_back({prefix + "rotation", fbits, u64(cols) * u64(cols)});
    appendPq(out, prefix, u64(n), u64(cols), getSubspaces(), u64(ks), fbits);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// #qet.hera
//===----------------------------------------------------------------------===//

LogicalResult HeraAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               uint64_t subspaces, uint64_t centroids,
                               unsigned depth) {
  if (subspaces < 1)
    return emitError() << "#qet.hera: subspaces must be >= 1";
  if (centroids < 1 || centroids > (uint64_t{1} << 32))
    return emitError() << "#qet.hera: centroids must be in [1, 2^32], got "
                       << centroids;
  if (depth > 31)
    return emitError() << "#qet.hera: depth must be in [0, 31], got " << depth;
  return success();
}

std::string HeraAttr::getLibraryScheme() const { return "hera"; }

void HeraAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &params) const {
  params["M"] = static_cast<int64_t>(getSubspaces());
  params["Ks"] = static_cast<int64_t>(getCentroids());
  params["depth"] = getDepth();
}

LogicalResult
HeraAttr::verifyMatrix(int64_t rows, int64_t cols, Type,
                       function_ref<InFlightDiagnostic()> emitError) const {
  if (u64(rows) < getCentroids())
    return emitError() << "#qet.hera: centroids = " << getCentroids()
                       << " exceeds the " << rows << " rows";
  if (failed(verifySubspaces("#qet.hera", getSubspaces(), cols, emitError)))
    return failure();
  return verifyDepth("#qet.hera", getDepth(), cols, emitError);
}

SmallVector<StorageComponent>
HeraAttr::getComponents(int64_t rows, int64_t cols, Type elementType) const {
  SmallVector<StorageComponent> out;
  appendPq(out, "", u64(rows), u64(cols), getSubspaces(), getCentroids(),
           floatStorageBits(elementType));
  appendSwapBits(out, "swap_bits", u64(rows), u64(cols), getDepth());
  return out;
}

//===----------------------------------------------------------------------===//
// #qet.qet
//===----------------------------------------------------------------------===//

static constexpr int64_t kMaxCodebookBits = 16;

LogicalResult
QetSchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      uint64_t subspaces, DenseI64ArrayAttr depths,
                      DenseI64ArrayAttr centroids,
                      DenseI64ArrayAttr codebookBits) {
  if (subspaces < 1)
    return emitError() << "#qet.qet: subspaces must be >= 1";
  if (depths.empty() || depths.size() != centroids.size() ||
      depths.size() != codebookBits.size())
    return emitError() << "#qet.qet: depths, centroids and codebook_bits need "
                          "one entry per stage (got "
                       << depths.size() << ", " << centroids.size() << ", "
                       << codebookBits.size() << ")";
  for (auto [i, depth, ks, b] :
       llvm::enumerate(depths.asArrayRef(), centroids.asArrayRef(),
                       codebookBits.asArrayRef())) {
    if (depth < 0 || depth > 31)
      return emitError() << "#qet.qet: stage " << i
                         << " depth must be in [0, 31], got " << depth;
    if (ks < 1 || ks > (int64_t{1} << 32))
      return emitError() << "#qet.qet: stage " << i
                         << " centroids must be in [1, 2^32], got " << ks;
    if (b < 0 || b > kMaxCodebookBits)
      return emitError() << "#qet.qet: stage " << i
                         << " codebook_bits must be in [0, " << kMaxCodebookBits
                         << "] (0 = float codebook), got " << b;
  }
  return success();
}

std::string QetSchemeAttr::getLibraryScheme() const { return "qet"; }

void QetSchemeAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &params) const {
  params["M"] = static_cast<int64_t>(getSubspaces());
  params["stages"] = static_cast<int64_t>(getDepths().size());
  for (int64_t i = 0; i < getDepths().size(); ++i) {
    std::string prefix = ::qet::quant::qetStagePrefix(static_cast<size_t>(i));
    params[prefix + "depth"] = getDepths()[i];
    params[prefix + "codebook_bits"] = getCodebookBits()[i];
    params[prefix + "Ks"] = getCentroids()[i];
  }
}

LogicalResult
QetSchemeAttr::verifyMatrix(int64_t rows, int64_t cols, Type,
                            function_ref<InFlightDiagnostic()> emitError) const {
  if (failed(verifySubspaces("#qet.qet", getSubspaces(), cols, emitError)))
    return failure();
  for (int64_t i = 0; i < getDepths().size(); ++i) {
    if (getCentroids()[i] > rows)
      return emitError() << "#qet.qet: stage " << i << " centroids = "
                         << getCentroids()[i] << " exceeds the " << rows
                         << " rows";
    if (failed(verifyDepth("#qet.qet", getDepths()[i], cols, emitError)))
      return failure();
  }
  return success();
}

SmallVector<StorageComponent>
QetSchemeAttr::getComponents(int64_t rows, int64_t cols,
                             Type elementType) const {
  SmallVector<StorageComponent> out;
  unsigned fbits = floatStorageBits(elementType);
  for (int64_t i = 0; i < getDepths().size(); ++i) {
    std::string prefix = ::qet::quant::qetStagePrefix(static_cast<size_t>(i));
    uint64_t ks = u64(getCentroids()[i]);
    unsigned b = static_cast<unsigned>(getCodebookBits()[i]);
    if (b == 0) {
      appendPq(out, prefix, u64(rows), u64(cols), getSubspaces(), ks, fbits);
    } else {
      out.push_back({prefix + "codebook_levels", b, ks * u64(cols)});
      out.push_back({prefix + "codebook_lo", fbits, 1});
      out.push_back({prefix + "codebook_step", fbits, 1});
      out.push_back({prefix + "codes", ::qet::quant::indexBits(ks),
                     u64(rows) * getSubspaces()});
    }
    appendSwapBits(out, prefix + "swap_bits", u64(rows), u64(cols),
                   getDepths()[i]);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// #qet.vq
//===----------------------------------------------------------------------===//

LogicalResult VqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             unsigned vector, unsigned indexBits,
                             unsigned residualBits, unsigned groups,
                             uint64_t groupSize, uint64_t outlierColumns,
                             unsigned outlierVector, unsigned outlierBits, bool,
                             bool) {
  if (vector < 1 || vector > 16)
    return emitError() << "#qet.vq: vector must be in [1, 16], got " << vector;
  if (indexBits < 1 || indexBits > 16)
    return emitError() << "#qet.vq: index_bits must be in [1, 16], got "
                       << indexBits;
  if (residualBits > 16 || indexBits + residualBits > 32)
    return emitError() << "#qet.vq: residual_bits must be in [0, 16] with "
                          "index_bits + residual_bits <= 32, got "
                       << residualBits;
  if (groups < 1 || groupSize < 1)
    return emitError() << "#qet.vq: groups and group_size must be >= 1";
  if (outlierColumns &&
      (outlierVector < 1 || outlierVector > 16 || outlierBits < 1 ||
       outlierBits > 16))
    return emitError() << "#qet.vq: outlier_vector and outlier_bits must be in "
                          "[1, 16] when outlier_columns > 0";
  return success();
}

std::string VqAttr::getLibraryScheme() const { return "vptq"; }

void VqAttr::getLibraryParams(int64_t, std::map<std::string, int64_t> &params) const {
  params["version"] = 1;
  params["v"] = getVector();
  params["b"] = getIndexBits();
  params["b_r"] = getResidualBits();
  params["G"] = getGroups();
  params["gs"] = static_cast<int64_t>(getGroupSize());
  params["o"] = static_cast<int64_t>(getOutlierColumns());
  params["v_o"] = getOutlierVector();
  params["b_o"] = getOutlierBits();
  params["flags"] = (getPermuted() ? 1 : 0) | (getNormalized() ? 2 : 0);
}

LogicalResult
VqAttr::verifyMatrix(int64_t, int64_t cols, Type,
                     function_ref<InFlightDiagnostic()> emitError) const {
  if (getOutlierColumns() + getGroups() * getGroupSize() != u64(cols))
    return emitError() << "#qet.vq: outlier_columns + groups * group_size = "
                       << getOutlierColumns() + getGroups() * getGroupSize()
                       << " does not equal the " << cols << " columns";
  return success();
}

SmallVector<StorageComponent> VqAttr::getComponents(int64_t rows, int64_t cols,
                                                    Type) const {
  uint64_t vecRows = (u64(rows) + getVector() - 1) / getVector();
  uint64_t fieldBits = getIndexBits() + getResidualBits();
  uint64_t words = (getGroupSize() * fieldBits + 31) / 32;
  SmallVector<StorageComponent> out = {
      {"idx", 32, uint64_t(getGroups()) * vecRows * words}};
  uint64_t o = getOutlierColumns();
  if (o) {
    uint64_t outlierRows = (u64(rows) + getOutlierVector() - 1) / getOutlierVector();
    out.push_back({"idx_o", 32, outlierRows * ((o * getOutlierBits() + 31) / 32)});
  }
  out.push_back({"C", 16, uint64_t(getGroups()) * (uint64_t{1} << getIndexBits()) *
                              getVector()});
  if (getResidualBits())
    out.push_back({"Cr", 16, uint64_t(getGroups()) *
                                 (uint64_t{1} << getResidualBits()) * getVector()});
  if (o)
    out.push_back({"C_o", 16, (uint64_t{1} << getOutlierBits()) * getOutlierVector()});
  if (getPermuted())
    out.push_back({"perm", cols <= 65536 ? 16u : 32u, u64(cols)});
  if (getNormalized()) {
    out.push_back({"scale", 16, u64(cols)});
    out.push_back({"bias", 16, u64(cols)});
  }
  return out;
}

//===----------------------------------------------------------------------===//
// #qet.qjl
//===----------------------------------------------------------------------===//

LogicalResult QjlAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned sketch, unsigned outlierSketch,
                              unsigned, unsigned groupTokens, bool, uint64_t) {
  if (sketch < 8 || sketch % 8)
    return emitError() << "#qet.qjl: sketch must be a positive multiple of 8, "
                          "got "
                       << sketch;
  if (outlierSketch % 8 || outlierSketch > sketch)
    return emitError() << "#qet.qjl: outlier_sketch must be 0 or a multiple "
                          "of 8 no larger than sketch, got "
                       << outlierSketch;
  if (groupTokens < 1)
    return emitError() << "#qet.qjl: group_tokens must be >= 1";
  return success();
}

std::string QjlAttr::getLibraryScheme() const { return "qjl"; }

void QjlAttr::getLibraryParams(int64_t cols, std::map<std::string, int64_t> &params) const {
  params["d"] = cols;
  params["m"] = getSketch();
  params["m_o"] = getOutlierSketch();
  params["outliers"] = getOutliers();
  params["group_tokens"] = getGroupTokens();
  params["orthogonal"] = getOrthogonal();
  params["seed"] = static_cast<int64_t>(getSeed());
}

LogicalResult
QjlAttr::verifyMatrix(int64_t, int64_t cols, Type,
                      function_ref<InFlightDiagnostic()> emitError) const {
  if (cols < 8 || cols % 8)
    return emitError() << "#qet.qjl: the key dimension must be a positive "
                          "multiple of 8, got "
                       << cols;
  if (getOutliers() >= u64(cols))
    return emitError() << "#qet.qjl: " << getOutliers()
                       << " outlier channels need a key dimension above "
                       << getOutliers() << ", got " << cols;
  return success();
}

SmallVector<StorageComponent> QjlAttr::getComponents(int64_t rows, int64_t cols,
                                                     Type) const {
  uint64_t tokens = u64(rows);
  SmallVector<StorageComponent> out = {{"signs", 1, tokens * getSketch()},
                                       {"norms", 16, tokens}};
  if (getOutliers() > 0 && getOutlierSketch() > 0) {
    uint64_t groups = (tokens + getGroupTokens() - 1) / getGroupTokens();
    out.push_back({"outlier_signs", 1, tokens * getOutlierSketch()});
    out.push_back({"outlier_norms", 16, tokens});
    out.push_back({"outlier_ids", cols <= 256 ? 8u : 16u, groups * getOutliers()});
  }
  return out;
}
