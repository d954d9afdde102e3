//===- Safetensors.cpp - safetensors reader and writer --------------------===//
//
// Format (huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON {"name": {"dtype": "F32", "shape": [r, c], "data_offsets":
// [begin, end]}, ..., "__metadata__": {...}}, then the data section; offsets
// are relative to its start.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/MatrixIO.h"

#include "qet/Quantizer/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace qet::quant {

namespace {

using nlohmann::json;

/// The reference implementation's limit (MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100000000;
constexpr const char *kMetadataKey = "__metadata__";

struct Header {
  uint64_t dataStart = 0; // file offset of the data section
  uint64_t dataSize = 0;
  std::vector<TensorInfo> tensors; // sorted by name
};

/// Element width in bytes of the dtypes the format defines with whole-byte
/// elements; 0 for others (sub-byte or unknown), whose sizes go unchecked.
uint64_t elementBytes(const std::string &dtype) {
  static const std::pair<const char *, uint64_t> widths[] = {
      {"BOOL", 1},    {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},     {"BF16", 2},
      {"I32", 4},     {"U32", 4}, {"F32", 4}, {"F64", 8},     {"I64", 8},
      {"U64", 8},     {"C64", 8}};
  for (const auto &[name, width] : widths)
    if (dtype == name)
      return width;
  return 0;
}

std::string shapeText(const std::vector<uint64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Header parseHeader(detail::InputFile &file) {
  const std::string &path = file.path();
  const uint64_t fileSize = file.size();
  if (fileSize < 8)
    throw FormatError(path + ": file is " + std::to_string(fileSize) +
                      " bytes, shorter than 8 bytes (a safetensors file "
                      "starts with an 8-byte header length)");
  unsigned char lengthBytes[8];
  file.readAt(0, lengthBytes, 8, "safetensors header length");
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | lengthBytes[i];
  if (headerLength > kMaxHeaderBytes)
    throw FormatError(
        path + ": safetensors header length " + std::to_string(headerLength) +
        " is absurd (over the limit of " + std::to_string(kMaxHeaderBytes) +
        " bytes): not a safetensors file");
  if (headerLength > fileSize - 8)
    throw FormatError(
        path + ": safetensors header length " + std::to_string(headerLength) +
        " is larger than the file (" + std::to_string(fileSize - 8) +
        " bytes after the length): truncated, or not a "
        "safetensors file");

  std::string text(headerLength, '\0');
  file.readAt(8, text.data(), headerLength, "safetensors header");
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &error) {
    throw FormatError(
        path + ": safetensors header is not valid JSON: " + error.what());
  }
  if (!root.is_object())
    throw FormatError(path + ": safetensors header is not a JSON object");

  Header header;
  header.dataStart = 8 + headerLength;
  header.dataSize = fileSize - header.dataStart;
  for (const auto &item : root.items()) {
    const std::string &name = item.key();
    const json &entry = item.value();
    if (name == kMetadataKey) {
      if (!entry.is_object())
        throw FormatError(path + ": safetensors __metadata__ is not a JSON "
                                 "object");
      continue;
    }
    auto bad = [&](const std::string &why) {
      return FormatError(path + ": safetensors tensor '" + name + "': " + why);
    };
    if (!entry.is_object())
      throw bad("entry is not a JSON object");
    TensorInfo info;
    info.name = name;

    auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string())
      throw bad("missing or non-string \"dtype\"");
    info.dtype = dtype->get<std::string>();

    auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array())
      throw bad("missing or non-array \"shape\"");
    for (const json &dim : *shape) {
      if (!dim.is_number_unsigned())
        throw bad("\"shape\" " + shape->dump() +
                  " is not a list of non-negative integers");
      info.shape.push_back(dim.get<uint64_t>());
    }

    auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() ||
        offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw bad("\"data_offsets\" is not a pair of non-negative integers");
    info.begin = (*offsets)[0].get<uint64_t>();
    info.end = (*offsets)[1].get<uint64_t>();
    std::string range = "data_offsets [" + std::to_string(info.begin) + ", " +
                        std::to_string(info.end) + "]";
    if (info.begin > info.end || info.end > header.dataSize)
      throw bad(range + " out of range (the data section has " +
                std::to_string(header.dataSize) + " bytes)");

    if (uint64_t width = elementBytes(info.dtype)) {
      uint64_t bytes = width;
      bool overflow = false;
      for (uint64_t dim : info.shape)
        overflow = overflow || __builtin_mul_overflow(bytes, dim, &bytes);
      if (overflow || bytes != info.end - info.begin)
        throw bad(range + " span " + std::to_string(info.end - info.begin) +
                  " bytes, which does not match shape " +
                  shapeText(info.shape) + " of " + info.dtype + " (" +
                  (overflow ? std::string("overflow")
                            : std::to_string(bytes) + " bytes") +
                  ")");
    }
    header.tensors.push_back(std::move(info));
  }
  std::sort(
      header.tensors.begin(), header.tensors.end(),
      [](const TensorInfo &a, const TensorInfo &b) { return a.name < b.name; });
  return header;
}

const char *safetensorsDtype(DType type) {
  switch (type) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  }
  return "?";
}

} // namespace

std::vector<TensorInfo> listSafetensors(const std::string &path) {
  detail::InputFile file(path);
  return parseHeader(file).tensors;
}

Matrix readSafetensors(const std::string &path, const std::string &tensor) {
  detail::InputFile file(path);
  Header header = parseHeader(file);
  auto found =
      std::lower_bound(header.tensors.begin(), header.tensors.end(), tensor,
                       [](const TensorInfo &info, const std::string &name) {
                         return info.name < name;
                       });
  if (found == header.tensors.end() || found->name != tensor)
    throw FormatError(
        path + ": tensor '" + tensor + "' not found; available: " +
        (header.tensors.empty() ? std::string("none")
                                : detail::listNames(header.tensors)));
  const TensorInfo &info = *found;
  std::string what = path + ": tensor '" + info.name + "'";

  DType type;
  if (info.dtype == "F32")
    type = DType::F32;
  else if (info.dtype == "F16")
    type = DType::F16;
  else if (info.dtype == "BF16")
    type = DType::BF16;
  else
    throw FormatError(what + " has unsupported dtype " + info.dtype +
                      " (supported: F32, F16, BF16)");
  if (info.shape.empty() || info.shape.size() > 2)
    throw FormatError(what + " has shape " + shapeText(info.shape) + " (" +
                      std::to_string(info.shape.size()) +
                      "-D); expected a 1-D or 2-D tensor");

  // parseHeader checked end - begin == rows * cols * element size.
  uint64_t rows = info.shape.size() == 1 ? 1 : info.shape[0];
  uint64_t cols = info.shape.back();
  uint64_t bytes = info.end - info.begin;
  std::vector<uint8_t> data(bytes);
  file.readAt(header.dataStart + info.begin, data.data(), bytes, "tensor data");
  Matrix m(rows, cols, type);
  detail::decodeInto(data.data(), m.values.size(), type, m.values.data());
  return m;
}

void writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, Matrix>> &tensors, DType type) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  const uint64_t width = bitWidth(type) / 8;
  for (const auto &[name, m] : tensors) {
    if (name.empty() || name == kMetadataKey)
      throw Error(path + ": invalid tensor name '" + name + "'");
    if (!names.insert(name).second)
      throw Error(path + ": duplicate tensor name '" + name + "'");
    detail::requireConsistent(m, path + ": tensor '" + name + "'");
    uint64_t bytes = static_cast<uint64_t>(m.values.size()) * width;
    header[name] = {{"dtype", safetensorsDtype(type)},
                    {"shape", {m.rows, m.cols}},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes;
  bytes.reserve(8 + text.size() + offset);
  for (unsigned i = 0; i < 8; ++i)
    bytes.push_back(
        static_cast<char>((uint64_t(text.size()) >> (8 * i)) & 0xff));
  bytes += text;
  for (const auto &[name, m] : tensors)
    detail::appendEncoded(bytes, m, type, path + ": tensor '" + name + "'");
  detail::writeFileAtomically(path, bytes);
}

} // namespace qet::quant
