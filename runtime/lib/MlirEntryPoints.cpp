//===- MlirEntryPoints.cpp - Runtime functions generated code calls -------===//
//
// convert-qet-to-runtime lowers every read of a qet.external_constant
// component to a call of `qetLoadSection` (declared with
// llvm.emit_c_interface), which lands here with a buffer and a one-byte
// "loaded" flag, both globals of the generated code (zero at load time).
// Each container is opened once and stays mapped for the life of the
// process; a section is checksummed and copied into its buffer when the
// flag is still 0, and later calls return at once. The flag lives with the
// buffer, so code loaded again (a new JIT session) loads again.
// qetMatmul / qetRtnMatmul run the runtime's kernels for a lowered
// qet.qmatmul (tensors bound once per container and name). qetQjlAttention
// / qetQjlHeldAttention / qetQjlHeldScores run the QJL score kernel for
// keys in a container or held by the generated code (a qet_qjl, with S
// regenerated, created once per configuration), then softmax and the value
// product as QjlCache::attend does.
//
// Generated code has no error channel: a failure prints the runtime's
// message and ends the process with status 1 (_Exit: no destructors run
// while another thread may hold the lock) rather than let the code read a
// wrong or missing weight.
//
//===----------------------------------------------------------------------===//

#include "qet/runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#define QET_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

/// The descriptor of a memref<?xi8> as MLIR's C interface passes it.
struct ByteMemRef {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];

  int8_t *data() const { return aligned + offset; }
  std::string str() const {
    return std::string(reinterpret_cast<const char *>(data()),
                       static_cast<size_t>(sizes[0]));
  }
};

/// The descriptor of a row-major memref<?x?xf32>.
struct FloatMatrix {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];

  float *data() const { return aligned + offset; }
  bool contiguous() const { return strides[1] == 1 && strides[0] == sizes[1]; }
};

std::mutex loadMutex;
std::map<std::string, qet_container *> containers;
std::map<std::pair<std::string, std::string>, qet_tensor *> tensors;

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "qet runtime: %s\n", what.c_str());
  std::fflush(nullptr);
  std::_Exit(EXIT_FAILURE);
}

/// The open container `file` (callers hold loadMutex).
qet_container *container(const std::string &file, const std::string &where) {
  auto it = containers.find(file);
  if (it != containers.end())
    return it->second;
  qet_container *opened = nullptr;
  if (qet_container_open(file.c_str(), &opened) != QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  return containers[file] = opened;
}

qet_tensor *tensor(const std::string &file, const std::string &name) {
  std::lock_guard<std::mutex> lock(loadMutex);
  auto key = std::make_pair(file, name);
  if (auto it = tensors.find(key); it != tensors.end())
    return it->second;
  std::string where = "tensor '" + name + "' in '" + file + "'";
  qet_tensor *bound = nullptr;
  if (qet_tensor_lookup(container(file, where), name.c_str(), &bound) !=
      QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  return tensors[key] = bound;
}

/// x (batch x cols) and y (batch x rows) as the kernels take them.
void checkOperands(const FloatMatrix *x, const FloatMatrix *y, int64_t rows,
                   int64_t cols, const std::string &what) {
  if (!x->contiguous() || !y->contiguous() || x->sizes[0] != y->sizes[0] ||
      x->sizes[1] != cols || y->sizes[1] != rows)
    die(what + ": the compiled code passed " + std::to_string(x->sizes[0]) +
        "x" + std::to_string(x->sizes[1]) + " inputs and " +
        std::to_string(y->sizes[0]) + "x" + std::to_string(y->sizes[1]) +
        " outputs (row-major) for a " + std::to_string(rows) + "x" +
        std::to_string(cols) + " weight");
}

/// fp16 bit patterns of `m` (null when empty), copied when not 2-aligned.
const uint16_t *halves(const ByteMemRef *m, std::vector<uint16_t> &copy) {
  if (m->sizes[0] == 0)
    return nullptr;
  if (reinterpret_cast<uintptr_t>(m->data()) % alignof(uint16_t) == 0)
    return reinterpret_cast<const uint16_t *>(m->data());
  copy.resize(static_cast<size_t>(m->sizes[0]) / 2);
  std::memcpy(copy.data(), m->data(), copy.size() * 2);
  return copy.data();
}

/// Sketched keys held by generated code (component buffers as the packed
/// matrix stores them) in the C API's form; owns the widened copies.
struct HeldKeys {
  qet_qjl_config config{};
  qet_qjl_keys keys{};
  std::vector<uint16_t> norms, outlierNorms, ids;
};

HeldKeys heldKeys(const ByteMemRef *signs, const ByteMemRef *norms,
                  const ByteMemRef *outlierSigns,
                  const ByteMemRef *outlierNorms, const ByteMemRef *outlierIds,
                  int64_t dim, int64_t sketch, int64_t outlierSketch,
                  int64_t outliers, int64_t groupTokens, int64_t orthogonal,
                  int64_t seed) {
  HeldKeys held;
  held.config = {dim,
                 sketch,
                 outlierSketch,
                 outliers,
                 groupTokens,
                 static_cast<int32_t>(orthogonal != 0),
                 static_cast<uint64_t>(seed)};
  const std::string what = "qjl keys";
  int64_t tokens = norms->sizes[0] / 2;
  held.keys.tokens = tokens;
  held.keys.signs = reinterpret_cast<const uint8_t *>(signs->data());
  held.keys.signs_count = static_cast<size_t>(signs->sizes[0]);
  held.keys.norms = halves(norms, held.norms);
  held.keys.norms_count = static_cast<size_t>(tokens);
  if (outlierSigns->sizes[0] > 0) {
    held.keys.outlier_signs =
        reinterpret_cast<const uint8_t *>(outlierSigns->data());
    held.keys.outlier_signs_count = static_cast<size_t>(outlierSigns->sizes[0]);
    held.keys.outlier_norms = halves(outlierNorms, held.outlierNorms);
    held.keys.outlier_norms_count =
        static_cast<size_t>(outlierNorms->sizes[0] / 2);
    // The ids are a stream of 8-bit (d <= 256) or 16-bit little-endian
    // fields; the C API takes uint16_t.
    int64_t groups =
        groupTokens > 0 ? (tokens + groupTokens - 1) / groupTokens : 0;
    int64_t count = groups * outliers, width = dim <= 256 ? 1 : 2;
    if (outlierIds->sizes[0] < count * width)
      die(what + ": " + std::to_string(outlierIds->sizes[0]) +
          " outlier id bytes for " + std::to_string(count) + " ids");
    const auto *raw = reinterpret_cast<const uint8_t *>(outlierIds->data());
    held.ids.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      held.ids[i] =
          width == 1
              ? raw[i]
              : static_cast<uint16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
    held.keys.outlier_ids = held.ids.data();
    held.keys.outlier_ids_count = held.ids.size();
  }
  return held;
}

/// The qet_qjl of `config` (S regenerated from the seed), created once.
qet_qjl *qjlFor(const qet_qjl_config &config) {
  static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t,
                             int32_t, uint64_t>,
                  qet_qjl *>
      created;
  std::lock_guard<std::mutex> lock(loadMutex);
  auto key = std::make_tuple(config.dim, config.sketch, config.outlier_sketch,
                             config.outliers, config.group_tokens,
                             config.orthogonal, config.seed);
  if (auto it = created.find(key); it != created.end())
    return it->second;
  qet_qjl *qjl = nullptr;
  if (qet_qjl_create(&config, &qjl) != QET_OK)
    die(std::string("qjl keys: ") + qet_last_error());
  return created[key] = qjl;
}

/// scores (heads x tokens) of held keys for the rows of q.
std::vector<float> heldScores(const HeldKeys &held, const FloatMatrix *q) {
  if (!q->contiguous() || q->sizes[1] != held.config.dim)
    die("qjl keys: the compiled code passed " + std::to_string(q->sizes[0]) +
        "x" + std::to_string(q->sizes[1]) +
        " queries (row-major) for keys of dimension " +
        std::to_string(held.config.dim));
  size_t heads = static_cast<size_t>(q->sizes[0]);
  size_t tokens = static_cast<size_t>(held.keys.tokens);
  std::vector<float> scores(heads * tokens);
  if (qet_qjl_scores(qjlFor(held.config), &held.keys, q->data(), q->sizes[0],
                     heads * static_cast<size_t>(held.config.dim),
                     scores.data(), scores.size()) != QET_OK)
    die(std::string("qjl keys: ") + qet_last_error());
  return scores;
}

/// out[h, :] = sum_t p_t v[t, :], p = softmax(scale * scores[h, :]): the
/// maximum subtracted, exp, times 1 / sum (QjlCache::attend's order).
void attend(const std::vector<float> &scores, size_t heads, size_t tokens,
            const FloatMatrix *v, float scale, const FloatMatrix *out,
            const std::string &what) {
  if (!v->contiguous() || !out->contiguous() ||
      static_cast<size_t>(v->sizes[0]) != tokens ||
      static_cast<size_t>(out->sizes[0]) != heads ||
      out->sizes[1] != v->sizes[1])
    die(what + ": the compiled code passed " + std::to_string(v->sizes[0]) +
        "x" + std::to_string(v->sizes[1]) + " values and " +
        std::to_string(out->sizes[0]) + "x" + std::to_string(out->sizes[1]) +
        " outputs (row-major) for " + std::to_string(heads) + " queries over " +
        std::to_string(tokens) + " tokens");
  size_t dv = static_cast<size_t>(v->sizes[1]);
  float *o = out->data();
  std::fill(o, o + heads * dv, 0.0f);
  if (tokens == 0)
    return; // no tokens: the attention output is taken as 0
  std::vector<float> p(tokens);
  for (size_t h = 0; h < heads; ++h) {
    const float *row = scores.data() + h * tokens;
    float mx = -INFINITY;
    for (size_t t = 0; t < tokens; ++t)
      mx = std::max(mx, row[t] * scale);
    float sum = 0.0f;
    for (size_t t = 0; t < tokens; ++t) {
      p[t] = std::exp(row[t] * scale - mx);
      sum += p[t];
    }
    const float inverse = 1.0f / sum;
    for (float &w : p)
      w *= inverse;
    float *oh = o + h * dv;
    for (size_t t = 0; t < tokens; ++t) {
      const float *vt = v->data() + t * dv;
      for (size_t c = 0; c < dv; ++c)
        oh[c] += p[t] * vt[c];
    }
  }
}

} // namespace

/// Y = X W^T for tensor `name` of container `file` (any scheme).
QET_EXPORT void _mlir_ciface_qetMatmul(const ByteMemRef *file,
                                       const ByteMemRef *name,
                                       const FloatMatrix *x,
                                       const FloatMatrix *y) {
  qet_tensor *t = tensor(file->str(), name->str());
  std::string what = "tensor '" + name->str() + "' in '" + file->str() + "'";
  qet_tensor_info info;
  if (qet_tensor_get_info(t, &info) != QET_OK)
    die(what + ": " + qet_last_error());
  checkOperands(x, y, info.rows, info.cols, what);
  size_t batch = static_cast<size_t>(x->sizes[0]);
  if (qet_tensor_matmul(t, x->data(), x->sizes[0], batch * info.cols,
                        y->data(), batch * info.rows) != QET_OK)
    die(what + ": " + qet_last_error());
}

/// Y = X W^T for RTN storage held by the generated code (zeros empty:
/// symmetric).
QET_EXPORT void _mlir_ciface_qetRtnMatmul(
    const ByteMemRef *codes, const ByteMemRef *scales, const ByteMemRef *zeros,
    int64_t rows, int64_t cols, int64_t bits, int64_t group,
    const FloatMatrix *x, const FloatMatrix *y) {
  checkOperands(x, y, rows, cols, "rtn weight");
  // The sizes the storage must have (the kernel reads exactly these).
  int64_t groups = group > 0 ? (cols + group - 1) / group : 0;
  int64_t codeBytes = (rows * cols * bits + 7) / 8, metaBytes = rows * groups * 2;
  if (codes->sizes[0] != codeBytes || scales->sizes[0] != metaBytes ||
      (zeros->sizes[0] != 0 && zeros->sizes[0] != metaBytes))
    die("rtn weight: " + std::to_string(codes->sizes[0]) + " code, " +
        std::to_string(scales->sizes[0]) + " scale and " +
        std::to_string(zeros->sizes[0]) + " zero-point bytes do not fit a " +
        std::to_string(rows) + "x" + std::to_string(cols) + " weight of " +
        std::to_string(bits) + "-bit codes in groups of " +
        std::to_string(group));
  std::vector<uint16_t> scaleCopy, zeroCopy;
  if (qet_rtn_matmul_f32(reinterpret_cast<const uint8_t *>(codes->data()),
                         halves(scales, scaleCopy), halves(zeros, zeroCopy),
                         rows, cols, bits, group, x->sizes[0], x->data(),
                         y->data()) != QET_OK)
    die(std::string("rtn weight: ") + qet_last_error());
}

/// Fills `buffer` with section `section` of tensor `tensor` in `file` unless
/// `loaded[0]` says it holds it already.
QET_EXPORT void _mlir_ciface_qetLoadSection(const ByteMemRef *file,
                                            const ByteMemRef *tensor,
                                            const ByteMemRef *section,
                                            const ByteMemRef *buffer,
                                            const ByteMemRef *loaded) {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (*loaded->data())
    return;
  std::string where = "section '" + section->str() + "' of tensor '" +
                      tensor->str() + "' in '" + file->str() + "'";
  const uint8_t *bytes = nullptr;
  size_t size = 0;
  if (qet_container_section(container(file->str(), where),
                            tensor->str().c_str(), section->str().c_str(),
                            &bytes, &size) != QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  if (static_cast<int64_t>(size) != buffer->sizes[0])
    die(where + " holds " + std::to_string(size) +
        " bytes, but the compiled code expects " +
        std::to_string(buffer->sizes[0]) +
        " (the file is not the one the code was compiled with)");
  std::memcpy(buffer->data(), bytes, size);
  *loaded->data() = 1;
}

/// out = softmax(scale q K^T) v for the qjl tensor `name` of `file`.
QET_EXPORT void _mlir_ciface_qetQjlAttention(const ByteMemRef *file,
                                             const ByteMemRef *name,
                                             const FloatMatrix *q,
                                             const FloatMatrix *v, float scale,
                                             const FloatMatrix *out) {
  qet_tensor *t = tensor(file->str(), name->str());
  std::string what = "tensor '" + name->str() + "' in '" + file->str() + "'";
  qet_tensor_info info;
  if (qet_tensor_get_info(t, &info) != QET_OK)
    die(what + ": " + qet_last_error());
  size_t heads = static_cast<size_t>(q->sizes[0]);
  if (!q->contiguous() || q->sizes[1] != static_cast<int64_t>(info.cols))
    die(what + ": the compiled code passed " + std::to_string(q->sizes[0]) +
        "x" + std::to_string(q->sizes[1]) +
        " queries (row-major) for keys of dimension " +
        std::to_string(info.cols));
  // A qjl tensor's product is its score kernel.
  std::vector<float> scores(heads * info.rows);
  if (qet_tensor_matmul(t, q->data(), q->sizes[0], heads * info.cols,
                        scores.data(), scores.size()) != QET_OK)
    die(what + ": " + qet_last_error());
  attend(scores, heads, info.rows, v, scale, out, what);
}

/// out = softmax(scale q K^T) v for QJL keys held by the generated code.
QET_EXPORT void _mlir_ciface_qetQjlHeldAttention(
    const ByteMemRef *signs, const ByteMemRef *norms,
    const ByteMemRef *outlierSigns, const ByteMemRef *outlierNorms,
    const ByteMemRef *outlierIds, int64_t dim, int64_t sketch,
    int64_t outlierSketch, int64_t outliers, int64_t groupTokens,
    int64_t orthogonal, int64_t seed, const FloatMatrix *q,
    const FloatMatrix *v, float scale, const FloatMatrix *out) {
  HeldKeys held =
      heldKeys(signs, norms, outlierSigns, outlierNorms, outlierIds, dim,
               sketch, outlierSketch, outliers, groupTokens, orthogonal, seed);
  std::vector<float> scores = heldScores(held, q);
  attend(scores, static_cast<size_t>(q->sizes[0]),
         static_cast<size_t>(held.keys.tokens), v, scale, out, "qjl keys");
}

/// scores = q K^T (the estimator) for QJL keys held by the generated code.
QET_EXPORT void _mlir_ciface_qetQjlHeldScores(
    const ByteMemRef *signs, const ByteMemRef *norms,
    const ByteMemRef *outlierSigns, const ByteMemRef *outlierNorms,
    const ByteMemRef *outlierIds, int64_t dim, int64_t sketch,
    int64_t outlierSketch, int64_t outliers, int64_t groupTokens,
    int64_t orthogonal, int64_t seed, const FloatMatrix *q,
    const FloatMatrix *scores) {
  HeldKeys held =
      heldKeys(signs, norms, outlierSigns, outlierNorms, outlierIds, dim,
               sketch, outlierSketch, outliers, groupTokens, orthogonal, seed);
  std::vector<float> result = heldScores(held, q);
  if (!scores->contiguous() || scores->sizes[0] != q->sizes[0] ||
      scores->sizes[1] != held.keys.tokens)
    die("qjl keys: the compiled code passed " +
        std::to_string(scores->sizes[0]) + "x" +
        std::to_string(scores->sizes[1]) + " scores for " +
        std::to_string(q->sizes[0]) + " queries over " +
        std::to_string(held.keys.tokens) + " tokens");
  std::copy(result.begin(), result.end(), scores->data());
}
