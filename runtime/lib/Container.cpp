//===- Container.cpp - The .qpk packed-matrix container -------------------===//
//
// Layout (docs/format.md): a 64-byte header, the tensor table at offset 64,
// then the sections, each at a multiple of 64. Integers are little-endian.
//
//===----------------------------------------------------------------------===//

#include "qet/runtime/Container.h"

#include "qet/runtime/Crc32c.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qet::runtime {

namespace {

constexpr char kMagic[8] = {'Q', 'E', 'T', 'P', 'A', 'C', 'K', '\0'};
constexpr uint64_t kHeaderSize = 64;
constexpr uint64_t kHeaderCrcOffset = 60;
constexpr uint32_t kMaxStringLength = 65535;
constexpr uint32_t kMaxBitsEach = 32;

static_assert(sizeof(uint64_t) == 8 && sizeof(double) == 8, "LP64 expected");

// --- Little-endian encoding -------------------------------------------------

void put32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}
void put64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}
void putString(std::string &out, const std::string &s) {
  put32(out, static_cast<uint32_t>(s.size()));
  out += s;
}
uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint64_t alignUp(uint64_t value) {
  return (value + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment;
}

uint64_t packedSize(uint64_t count, uint32_t bitsEach) {
  // count * bitsEach can overflow for absurd counts; callers bound count.
  return (count / 8) * bitsEach + ((count % 8) * bitsEach + 7) / 8;
}

/// Bounds-checked reader over the table bytes.
class Cursor {
public:
  Cursor(const uint8_t *data, uint64_t size, const std::string &file)
      : data(data), size(size), file(file) {}

  uint32_t u32(const char *what) { return get32(take(4, what)); }
  uint64_t u64(const char *what) { return get64(take(8, what)); }
  std::string string(const char *what) {
    uint32_t length = u32(what);
    if (length > kMaxStringLength)
      fail(std::string(what) + " is " + std::to_string(length) +
           " bytes long (limit " + std::to_string(kMaxStringLength) + ")");
    const uint8_t *p = take(length, what);
    return std::string(reinterpret_cast<const char *>(p), length);
  }
  uint64_t remaining() const { return size - position; }
  [[noreturn]] void fail(const std::string &why) const {
    throw ContainerError(file + ": corrupt tensor table at byte " +
                         std::to_string(kHeaderSize + position) + ": " + why);
  }

private:
  const uint8_t *take(uint64_t bytes, const char *what) {
    if (bytes > size - position)
      fail(std::string("table ends inside ") + what);
    const uint8_t *p = data + position;
    position += bytes;
    return p;
  }

  const uint8_t *data;
  uint64_t size;
  uint64_t position = 0;
  const std::string &file;
};

std::string serializeTable(const std::vector<TensorData> &tensors,
                           const std::vector<std::vector<uint64_t>> &offsets) {
  std::string table;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const TensorData &tensor = tensors[t];
    putString(table, tensor.name);
    putString(table, tensor.scheme);
    put64(table, tensor.rows);
    put64(table, tensor.cols);
    put32(table, static_cast<uint32_t>(tensor.dtype));
    put32(table, static_cast<uint32_t>(tensor.params.size()));
    for (const auto &[key, value] : tensor.params) {
      putString(table, key);
      put64(table, static_cast<uint64_t>(value));
    }
    put32(table, static_cast<uint32_t>(tensor.sections.size()));
    for (size_t s = 0; s < tensor.sections.size(); ++s) {
      const SectionData &section = tensor.sections[s];
      putString(table, section.name);
      put32(table, section.bitsEach);
      put64(table, section.count);
      put64(table, offsets.empty() ? 0 : offsets[t][s]);
      put64(table, section.size);
      put32(table, crc32c(section.bytes, section.size));
    }
  }
  return table;
}

void checkWritable(const std::vector<TensorData> &tensors,
                   const std::string &path) {
  std::set<std::string> names;
  for (const TensorData &tensor : tensors) {
    if (!names.insert(tensor.name).second)
      throw ContainerError(path + ": tensor name '" + tensor.name +
                           "' appears twice");
    if (tensor.name.size() > kMaxStringLength || tensor.scheme.empty() ||
        tensor.scheme.size() > kMaxStringLength)
      throw ContainerError(path + ": tensor '" + tensor.name +
                           "' needs a name and a scheme of at most 65535 bytes");
    for (const SectionData &section : tensor.sections) {
      if (section.bitsEach > kMaxBitsEach ||
          section.size != packedSize(section.count, section.bitsEach))
        throw ContainerError(path + ": section '" + section.name +
                             "' of tensor '" + tensor.name + "' holds " +
                             std::to_string(section.size) + " bytes for " +
                             std::to_string(section.count) + " fields of " +
                             std::to_string(section.bitsEach) + " bits");
    }
  }
}

void writeAll(int fd, const void *data, size_t size, const std::string &path) {
  const char *p = static_cast<const char *>(data);
  while (size) {
    ssize_t written = ::write(fd, p, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      throw ContainerError(path + ": write failed: " + std::strerror(errno),
                           ContainerErrorKind::Io);
    }
    p += written;
    size -= static_cast<size_t>(written);
  }
}

} // namespace

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  }
  return "?";
}

const SectionInfo &TensorInfo::section(const std::string &sectionName) const {
  for (const SectionInfo &s : sections)
    if (s.name == sectionName)
      return s;
  throw ContainerError("tensor '" + name + "' has no section '" +
                       sectionName + "'");
}

void writeContainer(const std::string &path,
                    const std::vector<TensorData> &tensors, bool replace) {
  checkWritable(tensors, path);
  if (!replace && ::access(path.c_str(), F_OK) == 0)
    throw ContainerError(path + ": exists; refusing to overwrite it",
                         ContainerErrorKind::Io);

  // Layout: the table's size does not depend on the offsets it holds.
  uint64_t tableSize = serializeTable(tensors, {}).size();
  uint64_t cursor = alignUp(kHeaderSize + tableSize);
  std::vector<std::vector<uint64_t>> offsets(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t) {
    for (const SectionData &section : tensors[t].sections) {
      offsets[t].push_back(cursor);
      cursor = alignUp(cursor + section.size);
    }
  }
  uint64_t fileSize = cursor;
  std::string table = serializeTable(tensors, offsets);

  std::string header(kMagic, sizeof(kMagic));
  put32(header, kContainerVersion);
  put32(header, static_cast<uint32_t>(tensors.size()));
  put64(header, fileSize);
  put64(header, kHeaderSize);
  put64(header, table.size());
  put32(header, crc32c(table.data(), table.size()));
  header.resize(kHeaderCrcOffset, '\0');
  put32(header, crc32c(header.data(), kHeaderCrcOffset));

  std::string directory = ".";
  if (size_t slash = path.rfind('/'); slash != std::string::npos)
    directory = slash == 0 ? "/" : path.substr(0, slash);
  std::string temp = path + ".tmp.XXXXXX";
  std::vector<char> templ(temp.begin(), temp.end());
  templ.push_back('\0');
  int fd = ::mkstemp(templ.data());
  if (fd < 0)
    throw ContainerError(path + ": cannot create a temporary file in " +
                             directory + ": " + std::strerror(errno),
                         ContainerErrorKind::Io);
  temp = templ.data();
  try {
    writeAll(fd, header.data(), header.size(), path);
    writeAll(fd, table.data(), table.size(), path);
    uint64_t position = kHeaderSize + table.size();
    static const char zeros[kSectionAlignment] = {};
    for (size_t t = 0; t < tensors.size(); ++t) {
      for (size_t s = 0; s < tensors[t].sections.size(); ++s) {
        writeAll(fd, zeros, offsets[t][s] - position, path);
        const SectionData &section = tensors[t].sections[s];
        writeAll(fd, section.bytes, section.size, path);
        position = offsets[t][s] + section.size;
      }
    }
    writeAll(fd, zeros, fileSize - position, path);
    if (::fsync(fd) != 0)
      throw ContainerError(path + ": fsync failed: " + std::strerror(errno),
                           ContainerErrorKind::Io);
    if (::close(fd) != 0) {
      fd = -1;
      throw ContainerError(path + ": close failed: " + std::strerror(errno),
                           ContainerErrorKind::Io);
    }
    fd = -1;
    ::chmod(temp.c_str(), 0644);
    if (replace) {
      if (::rename(temp.c_str(), path.c_str()) != 0)
        throw ContainerError(path + ": cannot rename the finished file "
                                    "into place: " + std::strerror(errno),
                             ContainerErrorKind::Io);
    } else {
      // link() fails if `path` appeared meanwhile: never clobbers.
      if (::link(temp.c_str(), path.c_str()) != 0)
        throw ContainerError(path + ": cannot create it: " +
                                 std::strerror(errno),
                             ContainerErrorKind::Io);
      ::unlink(temp.c_str());
    }
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
}

Container Container::open(const std::string &path) {
  Container c;
  c.file = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw ContainerError(path + ": cannot open: " + std::strerror(errno),
                         ContainerErrorKind::Io);
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw ContainerError(path + ": not a regular file", ContainerErrorKind::Io);
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    throw ContainerError(path + ": truncated: " + std::to_string(size) +
                         " bytes, shorter than the 64-byte header");
  }
  void *mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED)
    throw ContainerError(path + ": mmap failed: " + std::strerror(errno),
                         ContainerErrorKind::Io);
  c.mapping = static_cast<const uint8_t *>(mapped);
  c.mappingSize = size;
  c.owned = true;
  c.parse();
  return c;
}

Container Container::view(const uint8_t *data, size_t size,
                          const std::string &name) {
  Container c;
  c.file = name;
  if (size < kHeaderSize)
    throw ContainerError(name + ": truncated: " + std::to_string(size) +
                         " bytes, shorter than the 64-byte header");
  c.mapping = data;
  c.mappingSize = size;
  c.parse();
  return c;
}

void Container::parse() {
  const std::string &path = file;
  uint64_t size = mappingSize;
  Container &c = *this;
  const uint8_t *h = c.mapping;
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0)
    throw ContainerError(path + ": not a .qpk container (bad magic)");
  uint32_t version = get32(h + 8);
  if (version != kContainerVersion)
    throw ContainerError(path + ": unsupported container version " +
                         std::to_string(version) + " (this build reads " +
                         std::to_string(kContainerVersion) + ")");
  if (get32(h + kHeaderCrcOffset) != crc32c(h, kHeaderCrcOffset))
    throw ContainerError(path + ": header checksum mismatch (corrupt header)",
                         ContainerErrorKind::Checksum);
  uint32_t tensorCount = get32(h + 12);
  uint64_t fileSize = get64(h + 16);
  uint64_t tableOffset = get64(h + 24);
  uint64_t tableSize = get64(h + 32);
  if (fileSize != size)
    throw ContainerError(path + ": truncated or extended: the header says " +
                         std::to_string(fileSize) + " bytes, the file has " +
                         std::to_string(size));
  if (tableOffset != kHeaderSize || tableSize > size - kHeaderSize)
    throw ContainerError(path + ": tensor table out of bounds");
  const uint8_t *tableBytes = c.mapping + kHeaderSize;
  if (get32(h + 40) != crc32c(tableBytes, tableSize))
    throw ContainerError(path + ": tensor table checksum mismatch",
                         ContainerErrorKind::Checksum);

  Cursor in(tableBytes, tableSize, path);
  uint64_t dataStart = kHeaderSize + tableSize;
  std::set<std::string> names;
  std::vector<std::pair<uint64_t, uint64_t>> extents;
  for (uint32_t t = 0; t < tensorCount; ++t) {
    TensorInfo tensor;
    tensor.name = in.string("tensor name");
    if (!names.insert(tensor.name).second)
      in.fail("tensor name '" + tensor.name + "' appears twice");
    tensor.scheme = in.string("scheme name");
    tensor.rows = in.u64("rows");
    tensor.cols = in.u64("cols");
    if (tensor.cols && tensor.rows > (uint64_t{1} << 48) / tensor.cols)
      in.fail("tensor '" + tensor.name + "' has an absurd shape " +
              std::to_string(tensor.rows) + "x" + std::to_string(tensor.cols));
    uint32_t dtype = in.u32("dtype");
    if (dtype > static_cast<uint32_t>(ElementType::BF16))
      in.fail("tensor '" + tensor.name + "' has unknown dtype code " +
              std::to_string(dtype));
    tensor.dtype = static_cast<ElementType>(dtype);
    uint32_t paramCount = in.u32("parameter count");
    if (paramCount > in.remaining() / 12) // each takes >= 12 bytes
      in.fail("parameter count " + std::to_string(paramCount) +
              " exceeds the table");
    for (uint32_t p = 0; p < paramCount; ++p) {
      std::string key = in.string("parameter name");
      tensor.params.emplace_back(key, static_cast<int64_t>(in.u64("parameter value")));
    }
    uint32_t sectionCount = in.u32("section count");
    if (sectionCount > in.remaining() / 36) // each takes >= 36 bytes
      in.fail("section count " + std::to_string(sectionCount) +
              " exceeds the table");
    for (uint32_t s = 0; s < sectionCount; ++s) {
      SectionInfo section;
      section.name = in.string("section name");
      section.bitsEach = in.u32("section field width");
      section.count = in.u64("section field count");
      section.offset = in.u64("section offset");
      section.size = in.u64("section size");
      section.crc = in.u32("section checksum");
      std::string where = "section '" + section.name + "' of tensor '" +
                          tensor.name + "'";
      if (section.bitsEach > kMaxBitsEach)
        in.fail(where + " has " + std::to_string(section.bitsEach) +
                "-bit fields (at most 32)");
      if (section.offset % kSectionAlignment || section.offset < dataStart ||
          section.offset > size || section.size > size - section.offset)
        in.fail(where + " lies outside the data area (offset " +
                std::to_string(section.offset) + ", " +
                std::to_string(section.size) + " bytes, file " +
                std::to_string(size) + " bytes)");
      // Zero-width fields (a one-entry codebook's codes) occupy no bytes;
      // their count is bounded by the matrix size instead, so no reader
      // allocates for an absurd count.
      if (section.bitsEach == 0 && section.count > tensor.rows * tensor.cols)
        in.fail(where + " declares " + std::to_string(section.count) +
                " zero-width fields, more than the matrix has elements");
      if (section.bitsEach && section.count > section.size * 8)
        in.fail(where + " declares " + std::to_string(section.count) +
                " fields in " + std::to_string(section.size) + " bytes");
      if (packedSize(section.count, section.bitsEach) != section.size)
        in.fail(where + " holds " + std::to_string(section.size) +
                " bytes, not the " + std::to_string(section.count) +
                " fields of " + std::to_string(section.bitsEach) +
                " bits it declares");
      extents.emplace_back(section.offset, section.size);
      tensor.sections.push_back(std::move(section));
    }
    c.table.push_back(std::move(tensor));
  }
  if (in.remaining())
    in.fail(std::to_string(in.remaining()) +
            " bytes left after the last of " + std::to_string(tensorCount) +
            " tensors");
  std::sort(extents.begin(), extents.end());
  for (size_t i = 1; i < extents.size(); ++i)
    if (extents[i].first < extents[i - 1].first + extents[i - 1].second)
      throw ContainerError(path + ": sections overlap at byte " +
                           std::to_string(extents[i].first));
}

Container::Container(Container &&other) noexcept { *this = std::move(other); }

Container &Container::operator=(Container &&other) noexcept {
  if (this != &other) {
    if (mapping && owned)
      ::munmap(const_cast<uint8_t *>(mapping), mappingSize);
    file = std::move(other.file);
    mapping = std::exchange(other.mapping, nullptr);
    mappingSize = std::exchange(other.mappingSize, 0);
    owned = std::exchange(other.owned, false);
    table = std::move(other.table);
  }
  return *this;
}

Container::~Container() {
  if (mapping && owned)
    ::munmap(const_cast<uint8_t *>(mapping), mappingSize);
}

const TensorInfo &Container::tensor(const std::string &name) const {
  for (const TensorInfo &t : table)
    if (t.name == name)
      return t;
  std::string known;
  for (const TensorInfo &t : table)
    known += (known.empty() ? "" : ", ") + t.name;
  throw ContainerError(file + ": no tensor '" + name + "' (has: " +
                       (known.empty() ? "none" : known) + ")");
}

const uint8_t *Container::sectionBytes(const TensorInfo &tensor,
                                       const SectionInfo &section) const {
  const uint8_t *bytes = mapping + section.offset;
  if (crc32c(bytes, section.size) != section.crc)
    throw ContainerError(file + ": checksum mismatch in section '" +
                             section.name + "' of tensor '" + tensor.name +
                             "' (the file is corrupt)",
                         ContainerErrorKind::Checksum);
  return bytes;
}

void Container::verify() const {
  for (const TensorInfo &tensor : table)
    for (const SectionInfo &section : tensor.sections)
      sectionBytes(tensor, section);
}

} // namespace qet::runtime
