//===- Container.h - The .qpk packed-matrix container ----------*- C++ -*-===//
//
// A .qpk file holds named packed matrices: per tensor its scheme, integer
// parameters, logical shape and dtype, and its component sections (bit
// streams of `count` fields of `bitsEach` bits). Every section starts on a
// 64-byte boundary and carries a CRC-32C, as do the header and the table.
// The reader maps the file and hands out section bytes without copying. The
// byte layout is specified in docs/format.md.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_CONTAINER_H
#define QET_RUNTIME_CONTAINER_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qet::runtime {

/// What kind of failure a ContainerError reports (the C API maps it to a
/// status code): bad bytes, a failed system call, or a checksum mismatch.
enum class ContainerErrorKind { Format, Io, Checksum };

/// Every container error: the message names the file and what is wrong.
class ContainerError : public std::runtime_error {
public:
  explicit ContainerError(const std::string &message,
                          ContainerErrorKind kind = ContainerErrorKind::Format)
      : std::runtime_error(message), errorKind(kind) {}

  ContainerErrorKind kind() const { return errorKind; }

private:
  ContainerErrorKind errorKind;
};

constexpr uint32_t kContainerVersion = 1;
constexpr uint64_t kSectionAlignment = 64;

/// Element type of the matrix the packed data stands for.
enum class ElementType : uint32_t { F32 = 0, F16 = 1, BF16 = 2 };

struct SectionInfo {
  std::string name;
  uint32_t bitsEach = 0;
  uint64_t count = 0;
  uint64_t offset = 0; // from the start of the file
  uint64_t size = 0;   // bytes: ceil(count * bitsEach / 8)
  uint32_t crc = 0;    // CRC-32C of the section bytes
};

struct TensorInfo {
  std::string name;
  std::string scheme;
  uint64_t rows = 0, cols = 0;
  ElementType dtype = ElementType::F32;
  std::vector<std::pair<std::string, int64_t>> params;
  std::vector<SectionInfo> sections;

  const SectionInfo &section(const std::string &name) const;
};

/// What the writer stores: section bytes are borrowed from the caller.
struct SectionData {
  std::string name;
  uint32_t bitsEach = 0;
  uint64_t count = 0;
  const uint8_t *bytes = nullptr;
  uint64_t size = 0; // must equal ceil(count * bitsEach / 8)
};

struct TensorData {
  std::string name;
  std::string scheme;
  uint64_t rows = 0, cols = 0;
  ElementType dtype = ElementType::F32;
  std::vector<std::pair<std::string, int64_t>> params;
  std::vector<SectionData> sections;
};

/// Writes `tensors` to `path` through a temporary file in the same folder,
/// renamed into place only when complete. An existing `path` is replaced only
/// if `replace`; otherwise, or on any failure, it is left untouched.
void writeContainer(const std::string &path,
                    const std::vector<TensorData> &tensors, bool replace);

/// A validated, memory-mapped container.
class Container {
public:
  /// Maps `path` and validates the header, the table and every section's
  /// bounds (not yet the section checksums: see verify()).
  static Container open(const std::string &path);
  /// Validates `size` bytes already in memory, which must outlive the
  /// result; `name` stands for the file in messages.
  static Container view(const uint8_t *data, size_t size,
                        const std::string &name);

  Container(Container &&other) noexcept;
  Container &operator=(Container &&other) noexcept;
  Container(const Container &) = delete;
  Container &operator=(const Container &) = delete;
  ~Container();

  const std::string &path() const { return file; }
  const std::vector<TensorInfo> &tensors() const { return table; }
  /// The tensor called `name`; ContainerError listing the names otherwise.
  const TensorInfo &tensor(const std::string &name) const;

  /// The section's bytes inside the mapping, after checking its CRC-32C.
  const uint8_t *sectionBytes(const TensorInfo &tensor,
                              const SectionInfo &section) const;
  /// Checks every section's CRC-32C; the error names tensor and section.
  void verify() const;

private:
  Container() = default;
  /// Parses and validates the header and table of data[0, size).
  void parse();

  std::string file;
  const uint8_t *mapping = nullptr;
  size_t mappingSize = 0;
  bool owned = false; // whether `mapping` is our mmap
  std::vector<TensorInfo> table;
};

const char *elementTypeName(ElementType type);

} // namespace qet::runtime

#endif // QET_RUNTIME_CONTAINER_H
