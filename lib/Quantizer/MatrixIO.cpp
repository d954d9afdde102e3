//===- MatrixIO.cpp - Format dispatch and shared file helpers -------------===//

#include "qet/Quantizer/MatrixIO.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qet::quant {

static std::string systemMessage(int error) {
  return std::generic_category().message(error);
}

namespace detail {

//===----------------------------------------------------------------------===//
// InputFile
//===----------------------------------------------------------------------===//

InputFile::InputFile(const std::string &path) : filePath(path) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot open: " + systemMessage(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    throw Error(path + ": cannot stat: " + systemMessage(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  fileSize = static_cast<uint64_t>(info.st_size);
}

InputFile::~InputFile() { ::close(fd); }

void InputFile::readAt(uint64_t offset, void *out, size_t count,
                       const char *what) {
  auto truncated = [&] {
    return FormatError(filePath + ": truncated: the " + what +
                       " needs bytes [" + std::to_string(offset) + ", " +
                       std::to_string(offset + count) + "), the file has " +
                       std::to_string(fileSize));
  };
  if (offset > fileSize || count > fileSize - offset)
    throw truncated();
  auto *bytes = static_cast<char *>(out);
  while (count > 0) {
    ssize_t got = ::pread(fd, bytes, count, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      throw Error(filePath + ": read error: " + systemMessage(errno));
    }
    if (got == 0) // the file shrank since it was opened
      throw truncated();
    bytes += got;
    offset += static_cast<uint64_t>(got);
    count -= static_cast<size_t>(got);
  }
}

//===----------------------------------------------------------------------===//
// Atomic writes
//===----------------------------------------------------------------------===//

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  // A hidden sibling of the target, so that rename() stays within one file
  // system and never exposes a partial file under the target's name.
  size_t slash = path.rfind('/');
  std::string directory =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty())
    throw Error(path + ": cannot write: the path names a directory");

  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (unsigned attempt = 0;; ++attempt) {
    temp = directory + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
      break;
    if (errno != EEXIST || attempt == 100)
      throw Error(path + ": cannot create temporary file " + temp + ": " +
                  systemMessage(errno));
  }

  auto fail = [&](const std::string &step, int error) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(temp.c_str());
    return Error(path + ": " + step + ": " + systemMessage(error));
  };
  const char *data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t put = ::write(fd, data, left);
    if (put < 0) {
      if (errno == EINTR)
        continue;
      throw fail("write error", errno);
    }
    data += put;
    left -= static_cast<size_t>(put);
  }
  if (::fsync(fd) != 0)
    throw fail("cannot flush to disk", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    throw fail("write error on close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    throw fail("cannot rename " + temp + " over it", errno);
}

//===----------------------------------------------------------------------===//
// Element encoding
//===----------------------------------------------------------------------===//

static void appendLittleEndian(std::string &out, uint64_t value,
                               unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

void appendEncoded(std::string &out, const Matrix &m, DType type,
                   const std::string &what) {
  requireConsistent(m, what);
  out.reserve(out.size() + m.values.size() * (bitWidth(type) / 8));
  for (size_t i = 0; i < m.values.size(); ++i) {
    float value = m.values[i];
    uint16_t narrow = 0;
    switch (type) {
    case DType::F32: {
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof(bits));
      appendLittleEndian(out, bits, 4);
      continue;
    }
    case DType::F16:
      narrow = floatToHalfBits(value);
      if (std::isfinite(value) && !std::isfinite(halfBitsToFloat(narrow)))
        break;
      appendLittleEndian(out, narrow, 2);
      continue;
    case DType::BF16:
      narrow = floatToBFloatBits(value);
      if (std::isfinite(value) && !std::isfinite(bfloatBitsToFloat(narrow)))
        break;
      appendLittleEndian(out, narrow, 2);
      continue;
    }
    char text[32];
    std::snprintf(text, sizeof(text), "%.9g", static_cast<double>(value));
    throw Error(what + ": element (" + std::to_string(i / m.cols) + ", " +
                std::to_string(i % m.cols) + ") = " + text + " overflows " +
                dtypeName(type) + " (it would become Inf)");
  }
}

void decodeInto(const uint8_t *bytes, size_t count, DType type, float *out) {
  switch (type) {
  case DType::F32:
    for (size_t i = 0; i < count; ++i, bytes += 4) {
      uint32_t bits = uint32_t(bytes[0]) | uint32_t(bytes[1]) << 8 |
                      uint32_t(bytes[2]) << 16 | uint32_t(bytes[3]) << 24;
      std::memcpy(&out[i], &bits, sizeof(bits));
    }
    return;
  case DType::F16:
    for (size_t i = 0; i < count; ++i, bytes += 2)
      out[i] = halfBitsToFloat(static_cast<uint16_t>(bytes[0] | bytes[1] << 8));
    return;
  case DType::BF16:
    for (size_t i = 0; i < count; ++i, bytes += 2)
      out[i] =
          bfloatBitsToFloat(static_cast<uint16_t>(bytes[0] | bytes[1] << 8));
    return;
  }
}

std::string listNames(const std::vector<TensorInfo> &tensors, size_t limit) {
  std::string text;
  for (size_t i = 0; i < tensors.size() && i < limit; ++i)
    text += (i ? ", '" : "'") + tensors[i].name + "'";
  if (tensors.size() > limit)
    text += " (and " + std::to_string(tensors.size() - limit) + " more)";
  return text;
}

void requireConsistent(const Matrix &m, const std::string &what) {
  if (m.values.size() != m.rows * m.cols)
    throw Error(what + ": matrix claims " + std::to_string(m.rows) + "x" +
                std::to_string(m.cols) + " but holds " +
                std::to_string(m.values.size()) + " values");
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

Matrix readMatrix(const std::string &path, const std::string &tensor) {
  bool isNpy;
  {
    detail::InputFile file(path);
    char magic[detail::kNpyMagicSize];
    size_t have = file.size() < sizeof(magic) ? file.size() : sizeof(magic);
    file.readAt(0, magic, have, "magic");
    isNpy = have == sizeof(magic) &&
            std::memcmp(magic, detail::kNpyMagic, sizeof(magic)) == 0;
  }
  if (isNpy) {
    if (!tensor.empty())
      throw Error(path +
                  ": a .npy file holds a single array; the tensor "
                  "name '" +
                  tensor + "' applies only to safetensors files");
    return readNpy(path);
  }

  std::vector<TensorInfo> tensors;
  try {
    tensors = listSafetensors(path);
  } catch (const FormatError &error) {
    throw FormatError(std::string(error.what()) +
                      "; it is not a .npy file either (no \\x93NUMPY magic)");
  }
  if (!tensor.empty())
    return readSafetensors(path, tensor);
  if (tensors.size() == 1)
    return readSafetensors(path, tensors.front().name);
  if (tensors.empty())
    throw Error(path + ": the safetensors file holds no tensors");
  throw Error(path + ": the safetensors file holds " +
              std::to_string(tensors.size()) +
              " tensors; name the one to read: " + detail::listNames(tensors));
}

} // namespace qet::quant
