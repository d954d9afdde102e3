/*===- runtime.h - The C interface of libqet_runtime ------------*- C -*-===*\
|*                                                                            *|
|* Packed matrices in .qpk containers (docs/format.md), used straight from    *|
|* the mapped file: dequantize, y = W x and Y = X W^T without ever building   *|
|* the dense W, plus the QJL key-sketch / score / attention path of a KV      *|
|* cache on caller buffers. docs/runtime.md describes every function.         *|
|*                                                                            *|
|* Conventions: every function but qet_last_error and qet_status_name        *|
|* returns a qet_status; on failure qet_last_error() gives a message naming   *|
|* the file, tensor, section or argument. Buffer lengths are element counts   *|
|* (floats, uint16_t fp16 bit patterns, bytes for uint8_t); a buffer may be   *|
|* longer than needed, never shorter, and NULL only when none of it is used.  *|
|* Matrices are row-major. No function throws, aborts or keeps a pointer to   *|
|* a caller buffer after it returns; all may be called from any thread.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#ifndef QET_RUNTIME_H
#define QET_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define QET_NOEXCEPT noexcept
extern "C" {
#else
#define QET_NOEXCEPT
#endif

typedef enum qet_status {
  QET_OK = 0,
  QET_ERROR_IO = 1,               /* open/mmap/read failed */
  QET_ERROR_FORMAT = 2,           /* malformed container or tensor */
  QET_ERROR_CHECKSUM = 3,         /* a CRC-32C does not match */
  QET_ERROR_INVALID_ARGUMENT = 4, /* a bad value (negative count, ...) */
  QET_ERROR_NULL_POINTER = 5,     /* a required pointer is NULL */
  QET_ERROR_BUFFER_SIZE = 6,      /* a buffer is shorter than needed */
  QET_ERROR_NOT_FOUND = 7,        /* no tensor / parameter of that name */
  QET_ERROR_UNSUPPORTED = 8,      /* unknown scheme, CPU lacks a kernel */
  QET_ERROR_OUT_OF_MEMORY = 9,
  QET_ERROR_INTERNAL = 10
} qet_status;

/* The message of this thread's last call if it failed, else "". */
const char *qet_last_error(void) QET_NOEXCEPT;
/* "QET_OK", "QET_ERROR_IO", ... ("unknown status" otherwise). */
const char *qet_status_name(qet_status status) QET_NOEXCEPT;

/*===--- Settings (process-wide) ------------------------------------------===*/

/* Worker threads of the kernels; 0 = all cores (the default). Results do not
   depend on it. */
qet_status qet_set_threads(int64_t threads) QET_NOEXCEPT;

typedef enum qet_kernel {
  QET_KERNEL_AUTO = 0,     /* AVX2+FMA where the CPU has it (the default) */
  QET_KERNEL_PORTABLE = 1, /* plain C++: same results to float rounding */
  QET_KERNEL_AVX2 = 2      /* QET_ERROR_UNSUPPORTED without AVX2+FMA+F16C */
} qet_kernel;
qet_status qet_set_kernel(qet_kernel kernel) QET_NOEXCEPT;

/*===--- Containers and tensors -------------------------------------------===*/

typedef struct qet_container qet_container;
typedef struct qet_tensor qet_tensor;

typedef enum qet_dtype {
  QET_DTYPE_F32 = 0,
  QET_DTYPE_F16 = 1,
  QET_DTYPE_BF16 = 2
} qet_dtype;

typedef struct qet_tensor_info {
  const char *name;   /* valid until the container and its tensors are */
  const char *scheme; /* released */
  int64_t rows, cols;
  qet_dtype dtype;
  int64_t param_count;
  int64_t section_count;
} qet_tensor_info;

/* Maps `path` and validates its header and tensor table (not the section
   checksums: qet_container_verify, or lazily per tensor at lookup). */
qet_status qet_container_open(const char *path,
                              qet_container **out) QET_NOEXCEPT;
/* Checks every section's CRC-32C (QET_ERROR_CHECKSUM names the section). */
qet_status qet_container_verify(const qet_container *container) QET_NOEXCEPT;
/* NULL is accepted. Tensors looked up keep the mapping alive until they are
   released too. */
qet_status qet_container_close(qet_container *container) QET_NOEXCEPT;

qet_status qet_container_tensor_count(const qet_container *container,
                                      int64_t *count) QET_NOEXCEPT;
qet_status qet_container_tensor_info(const qet_container *container,
                                     int64_t index,
                                     qet_tensor_info *info) QET_NOEXCEPT;
/* Parameter `param` (< info.param_count) of tensor `index`. */
qet_status qet_container_tensor_param(const qet_container *container,
                                      int64_t index, int64_t param,
                                      const char **key,
                                      int64_t *value) QET_NOEXCEPT;

/* The bytes of section `section` of tensor `tensor`, in place in the
   mapping (valid until the container is closed), after checking their
   CRC-32C. QET_ERROR_NOT_FOUND names the missing tensor or section. */
qet_status qet_container_section(const qet_container *container,
                                 const char *tensor, const char *section,
                                 const uint8_t **data,
                                 size_t *size) QET_NOEXCEPT;

/* Binds tensor `name` to its scheme's kernels: checks the CRC-32C of its
   sections and that they match the scheme's parameters and shape.
   QET_ERROR_NOT_FOUND for an unknown name, QET_ERROR_UNSUPPORTED for a
   scheme without kernels (rtn, rtn-sym, pq, opq, lopq, hera, qet, vptq and
   qjl have them). */
qet_status qet_tensor_lookup(const qet_container *container, const char *name,
                             qet_tensor **out) QET_NOEXCEPT;
qet_status qet_tensor_release(qet_tensor *tensor) QET_NOEXCEPT; /* NULL ok */
qet_status qet_tensor_get_info(const qet_tensor *tensor,
                               qet_tensor_info *info) QET_NOEXCEPT;
/* A parameter by key (QET_ERROR_NOT_FOUND when absent). */
qet_status qet_tensor_find_param(const qet_tensor *tensor, const char *key,
                                 int64_t *value) QET_NOEXCEPT;

/* out[rows * cols] = W, equal bit for bit to the quantizer library's
   dequantize() (qjl: the implied keys k_hat, whose inner products are the
   estimator's). */
qet_status qet_tensor_dequantize(const qet_tensor *tensor, float *out,
                                 size_t out_count) QET_NOEXCEPT;
/* y[rows] = W x[cols] from packed storage (qjl: y = the estimated <x, k_t>
   of every key token t). */
qet_status qet_tensor_matvec(const qet_tensor *tensor, const float *x,
                             size_t x_count, float *y,
                             size_t y_count) QET_NOEXCEPT;
/* Y[b, :] = W X[b, :] for b < batch: X is batch x cols, Y batch x rows. */
qet_status qet_tensor_matmul(const qet_tensor *tensor, const float *x,
                             int64_t batch, size_t x_count, float *y,
                             size_t y_count) QET_NOEXCEPT;

/*===--- RTN on plain pointers (called by generated code) -----------------===*/

/* y[rows] = W x for group-wise RTN storage as the `rtn` scheme writes it:
   `codes` holds rows * cols fields of `bits` (1..8) bits, LSB first, row
   after row with no padding; scales_f16 / zeros_f16 hold rows *
   ceil(cols / group) fp16 bit patterns. zeros_f16 == NULL means `rtn-sym`
   (codes are two's complement, w = code * scale); otherwise w = zero +
   code * scale. */
qet_status qet_rtn_matvec_f32(const uint8_t *codes, const uint16_t *scales_f16,
                              const uint16_t *zeros_f16, int64_t rows,
                              int64_t cols, int64_t bits, int64_t group,
                              const float *x, float *y) QET_NOEXCEPT;
/* Y[b, :] = W X[b, :] for b < batch, same storage. */
qet_status qet_rtn_matmul_f32(const uint8_t *codes, const uint16_t *scales_f16,
                              const uint16_t *zeros_f16, int64_t rows,
                              int64_t cols, int64_t bits, int64_t group,
                              int64_t batch, const float *x,
                              float *y) QET_NOEXCEPT;

/*===--- QJL keys and KIVI values of a KV cache (specs: qjl.md) -----------===*/

typedef struct qet_qjl_config {
  int64_t dim;            /* d, a multiple of 8 */
  int64_t sketch;         /* m, a multiple of 8 */
  int64_t outlier_sketch; /* m_o: 0 or a multiple of 8, <= m */
  int64_t outliers;       /* |O| per token group, < d */
  int64_t group_tokens;   /* G >= 1 */
  int32_t orthogonal;     /* 1: block-orthogonal S (default), 0: Gaussian */
  uint64_t seed;
} qet_qjl_config;

/* A configuration with its JL matrix S, regenerated from the seed. */
typedef struct qet_qjl qet_qjl;
qet_status qet_qjl_create(const qet_qjl_config *config,
                          qet_qjl **out) QET_NOEXCEPT;
qet_status qet_qjl_destroy(qet_qjl *qjl) QET_NOEXCEPT; /* NULL ok */

/* Element counts of the buffers for `tokens` sketched keys. */
typedef struct qet_qjl_key_sizes {
  size_t signs;         /* bytes: tokens * m / 8 */
  size_t norms;         /* tokens */
  size_t outlier_signs; /* bytes: tokens * m_o / 8 (0 without outliers) */
  size_t outlier_norms; /* tokens (0 without outliers) */
  size_t outlier_ids;   /* ceil(tokens / G) * |O| (0 without outliers) */
} qet_qjl_key_sizes;
qet_status qet_qjl_key_sizes_for(const qet_qjl *qjl, int64_t tokens,
                                 qet_qjl_key_sizes *sizes) QET_NOEXCEPT;

/* Sketched keys (read side). Outlier pointers may be NULL without
   outliers. Norms are fp16 bit patterns. */
typedef struct qet_qjl_keys {
  int64_t tokens;
  const uint8_t *signs;
  size_t signs_count;
  const uint16_t *norms;
  size_t norms_count;
  const uint8_t *outlier_signs;
  size_t outlier_signs_count;
  const uint16_t *outlier_norms;
  size_t outlier_norms_count;
  const uint16_t *outlier_ids;
  size_t outlier_ids_count;
} qet_qjl_keys;

/* Where qet_qjl_sketch_keys writes (same layout as qet_qjl_keys). */
typedef struct qet_qjl_key_buffers {
  uint8_t *signs;
  size_t signs_count;
  uint16_t *norms;
  size_t norms_count;
  uint8_t *outlier_signs;
  size_t outlier_signs_count;
  uint16_t *outlier_norms;
  size_t outlier_norms_count;
  uint16_t *outlier_ids;
  size_t outlier_ids_count;
} qet_qjl_key_buffers;

/* Sketches keys[tokens x d] (token groups of G start at its first row). */
qet_status qet_qjl_sketch_keys(const qet_qjl *qjl, const float *keys,
                               int64_t tokens, size_t keys_count,
                               const qet_qjl_key_buffers *out) QET_NOEXCEPT;
/* scores[h * tokens + t] = estimated <q_h, k_t> for the `heads` query rows
   of queries[heads x d]. */
qet_status qet_qjl_scores(const qet_qjl *qjl, const qet_qjl_keys *keys,
                          const float *queries, int64_t heads,
                          size_t queries_count, float *scores,
                          size_t scores_count) QET_NOEXCEPT;

/* KIVI-style values: per token, groups of `group` channels with an fp16
   minimum and scale and `bits`-bit codes (bits in {1, 2, 4, 8}). */
typedef struct qet_kivi_sizes {
  int64_t group; /* resolved (0 asks for the largest of 32, 16, 8 dividing d) */
  size_t codes;  /* bytes: tokens * d * bits / 8 */
  size_t scales; /* tokens * d / group, as many mins */
} qet_kivi_sizes;
qet_status qet_kivi_sizes_for(int64_t dim, int64_t tokens, int64_t bits,
                              int64_t group,
                              qet_kivi_sizes *sizes) QET_NOEXCEPT;

typedef struct qet_kivi_values {
  int64_t tokens;
  int64_t bits;
  int64_t group; /* resolved, dividing d */
  const uint8_t *codes;
  size_t codes_count;
  const uint16_t *scales;
  size_t scales_count;
  const uint16_t *mins;
  size_t mins_count;
} qet_kivi_values;

typedef struct qet_kivi_value_buffers {
  uint8_t *codes;
  size_t codes_count;
  uint16_t *scales;
  size_t scales_count;
  uint16_t *mins;
  size_t mins_count;
} qet_kivi_value_buffers;

qet_status
qet_kivi_quantize_values(const float *values, int64_t tokens, int64_t dim,
                         int64_t bits, int64_t group, size_t values_count,
                         const qet_kivi_value_buffers *out) QET_NOEXCEPT;

/* One KV head's cache: the oldest tokens quantized, the newest in fp16.
   keys.tokens + tail_tokens must equal values.tokens + window_tokens. */
typedef struct qet_qjl_cache_view {
  qet_qjl_keys keys;
  int64_t tail_tokens;
  const uint16_t *key_tail; /* tail_tokens x d fp16, oldest first */
  size_t key_tail_count;
  qet_kivi_values values;
  int64_t window_tokens;
  const uint16_t *value_window; /* window_tokens x d fp16, oldest first */
  size_t value_window_count;
} qet_qjl_cache_view;

/* out[heads x d] = softmax(q K^T / sqrt(d)) V for queries[heads x d]: key
   scores from the sketches (exact fp32 for the tail), an fp32 softmax with
   max subtraction, values from their codes (and the fp16 window). */
qet_status qet_qjl_attention(const qet_qjl *qjl,
                             const qet_qjl_cache_view *cache,
                             const float *queries, int64_t heads,
                             size_t queries_count, float *out,
                             size_t out_count) QET_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#undef QET_NOEXCEPT

#endif /* QET_RUNTIME_H */
