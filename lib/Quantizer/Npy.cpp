//===- Npy.cpp - NumPy .npy reader and writer -----------------------------===//
//
// Format (numpy.lib.format): the magic "\x93NUMPY", major and minor version
// bytes, the header length (uint16 LE for 1.0, uint32 LE for 2.0 and 3.0),
// then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape':
// ...} padded with spaces and a newline, then the raw array data.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/MatrixIO.h"

#include "qet/Quantizer/Error.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>

namespace qet::quant {

namespace {

/// Headers beyond this are rejected before being read; numpy's own headers
/// are a few hundred bytes (numpy refuses more than 10000 by default).
constexpr uint64_t kMaxHeaderBytes = 1u << 24;

/// The subset of Python literals .npy headers use: dicts with string keys,
/// tuples, lists, strings, non-negative integers, True, False, None.
struct PyValue {
  enum Kind { Dict, Tuple, List, String, Integer, Bool, NoneValue };
  Kind kind = NoneValue;
  std::string text;     // String: the value
  uint64_t integer = 0; // Integer
  bool boolean = false; // Bool
  std::vector<PyValue> items;
  std::vector<std::pair<std::string, PyValue>> entries;
  std::string source; // the literal as written, for messages
};

/// Printable rendering of header bytes for messages, cut to a sensible length.
std::string quoteForMessage(const std::string &bytes, size_t limit = 120) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    }
  }
  if (bytes.size() > limit)
    out += "...";
  return out;
}

class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &path)
      : text(text), path(path) {}

  PyValue parse() {
    PyValue value = parseValue(0);
    skipSpace();
    if (pos != text.size())
      fail("unexpected text after the dictionary at offset " +
           std::to_string(pos));
    return value;
  }

private:
  const std::string &text;
  const std::string &path;
  size_t pos = 0;

  [[noreturn]] void fail(const std::string &why) const {
    throw FormatError(path + ": bad .npy header: " + why +
                      " (header: " + quoteForMessage(text) + ")");
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  PyValue parseValue(unsigned depth) {
    if (depth > 32)
      fail("nested too deeply");
    skipSpace();
    if (pos == text.size())
      fail("ends early");
    size_t start = pos;
    PyValue value;
    char c = text[pos];
    if (c == '{')
      value = parseDict(depth);
    else if (c == '(' || c == '[')
      value = parseSequence(depth);
    else if (c == '\'' || c == '"')
      value = parseString();
    else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
             c == '+')
      value = parseInteger();
    else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
      value = parseKeyword();
    else
      fail(std::string("unexpected character '") +
           quoteForMessage(std::string(1, c)) + "' at offset " +
           std::to_string(pos));
    if (value.source.empty())
      value.source = text.substr(start, pos - start);
    return value;
  }

  PyValue parseDict(unsigned depth) {
    PyValue dict;
    dict.kind = PyValue::Dict;
    ++pos; // '{'
    for (;;) {
      skipSpace();
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return dict;
      }
      PyValue key = parseValue(depth + 1);
      if (key.kind != PyValue::String)
        fail("dictionary key " + key.source + " is not a string");
      skipSpace();
      if (pos == text.size() || text[pos] != ':')
        fail("expected ':' after key " + key.source);
      ++pos;
      PyValue value = parseValue(depth + 1);
      for (const auto &entry : dict.entries)
        if (entry.first == key.text)
          fail("duplicate key " + key.source);
      dict.entries.emplace_back(key.text, std::move(value));
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return dict;
      }
      fail("expected ',' or '}' in the dictionary");
    }
  }

  PyValue parseSequence(unsigned depth) {
    char close = text[pos] == '(' ? ')' : ']';
    PyValue sequence;
    sequence.kind = close == ')' ? PyValue::Tuple : PyValue::List;
    ++pos;
    bool sawComma = false;
    for (;;) {
      skipSpace();
      if (pos < text.size() && text[pos] == close) {
        ++pos;
        break;
      }
      sequence.items.push_back(parseValue(depth + 1));
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        sawComma = true;
        continue;
      }
      if (pos < text.size() && text[pos] == close) {
        ++pos;
        break;
      }
      fail(std::string("expected ',' or '") + close + "'");
    }
    // Python: "(3)" is the integer 3, only "(3,)" is a tuple.
    if (close == ')' && sequence.items.size() == 1 && !sawComma)
      return std::move(sequence.items.front());
    return sequence;
  }

  PyValue parseString() {
    char quote = text[pos++];
    PyValue value;
    value.kind = PyValue::String;
    for (;;) {
      if (pos >= text.size() || text[pos] == '\n')
        fail("unterminated string");
      char c = text[pos++];
      if (c == quote)
        return value;
      if (c == '\\') {
        if (pos >= text.size())
          fail("unterminated string");
        c = text[pos++];
      }
      value.text.push_back(c);
    }
  }

  PyValue parseInteger() {
    size_t start = pos;
    bool negative = text[pos] == '-';
    if (text[pos] == '-' || text[pos] == '+')
      ++pos;
    if (pos == text.size() ||
        !std::isdigit(static_cast<unsigned char>(text[pos])))
      fail("malformed number at offset " + std::to_string(start));
    uint64_t value = 0;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      unsigned digit = static_cast<unsigned>(text[pos] - '0');
      if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10)
        fail("integer too large at offset " + std::to_string(start));
      value = value * 10 + digit;
      ++pos;
    }
    if (pos < text.size() && (text[pos] == 'L' || text[pos] == 'l'))
      ++pos; // Python 2 long, as old numpy wrote shapes
    if (negative && value != 0)
      fail("negative number " + text.substr(start, pos - start));
    PyValue result;
    result.kind = PyValue::Integer;
    result.integer = value;
    return result;
  }

  PyValue parseKeyword() {
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '_'))
      ++pos;
    std::string word = text.substr(start, pos - start);
    PyValue value;
    if (word == "True" || word == "False") {
      value.kind = PyValue::Bool;
      value.boolean = word == "True";
    } else if (word == "None") {
      value.kind = PyValue::NoneValue;
    } else {
      fail("unexpected name '" + word + "'");
    }
    return value;
  }
};

/// Python's repr of a shape tuple: "()", "(5,)", "(2, 3)".
std::string shapeRepr(const std::vector<uint64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// numpy's name of a dtype kind letter and byte size, for messages.
std::string describeDescr(const std::string &body) {
  if (body.size() < 2)
    return "";
  const char *kind = nullptr;
  switch (body[0]) {
  case 'f':
    kind = "float";
    break;
  case 'i':
    kind = "int";
    break;
  case 'u':
    kind = "uint";
    break;
  case 'c':
    kind = "complex";
    break;
  case 'b':
    return body == "b1" ? " (bool)" : "";
  default:
    return "";
  }
  std::string size = body.substr(1);
  for (char c : size)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return "";
  return " (" + std::string(kind) + std::to_string(8 * std::stoul(size)) + ")";
}

/// Maps a descr string to a supported dtype or throws FormatError.
DType parseDescr(const std::string &path, const std::string &descr) {
  char order = 0;
  std::string body = descr;
  if (!body.empty() && std::strchr("<>=|", body[0])) {
    order = body[0];
    body = body.substr(1);
  }
  if (body == "f4" || body == "f2") {
    if (order == '>')
      throw FormatError(path + ": big-endian dtype '" + descr +
                        "' is not supported; convert it with a.astype('<" +
                        body + "')");
    // '=' and '|' (and no prefix) mean native order, which numpy reads as
    // little-endian on the hosts qet runs on.
    return body == "f4" ? DType::F32 : DType::F16;
  }
  throw FormatError(path + ": unsupported dtype '" + descr + "'" +
                    describeDescr(body) +
                    "; supported: '<f4' (float32) and '<f2' (float16)");
}

uint16_t readLE16(const unsigned char *p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

uint32_t readLE32(const unsigned char *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

} // namespace

Matrix readNpy(const std::string &path) {
  detail::InputFile file(path);
  const uint64_t fileSize = file.size();

  unsigned char magic[detail::kNpyMagicSize];
  size_t have = fileSize < sizeof(magic) ? fileSize : sizeof(magic);
  file.readAt(0, magic, have, "magic");
  if (std::memcmp(magic, detail::kNpyMagic, have) != 0)
    throw FormatError(path +
                      ": not a .npy file: wrong magic (expected "
                      "\\x93NUMPY, found " +
                      quoteForMessage(std::string(
                          reinterpret_cast<const char *>(magic), have)) +
                      ")");
  if (have < sizeof(magic))
    throw FormatError(path + ": truncated: " + std::to_string(fileSize) +
                      " bytes, shorter than the .npy magic");

  unsigned char version[2];
  file.readAt(6, version, 2, ".npy version");
  if (version[0] < 1 || version[0] > 3 || version[1] != 0)
    throw FormatError(path + ": unsupported .npy format version " +
                      std::to_string(version[0]) + "." +
                      std::to_string(version[1]) +
                      " (supported: 1.0, 2.0, 3.0)");

  unsigned char lengthBytes[4];
  uint64_t lengthFieldSize = version[0] == 1 ? 2 : 4;
  file.readAt(8, lengthBytes, lengthFieldSize, ".npy header length");
  uint64_t headerLength =
      version[0] == 1 ? readLE16(lengthBytes) : readLE32(lengthBytes);
  uint64_t headerStart = 8 + lengthFieldSize;
  if (headerLength > kMaxHeaderBytes)
    throw FormatError(path + ": bad .npy header: its length " +
                      std::to_string(headerLength) + " is implausibly large");
  if (headerLength > fileSize - headerStart)
    throw FormatError(path + ": truncated: the .npy header length is " +
                      std::to_string(headerLength) + " bytes, the file has " +
                      std::to_string(fileSize - headerStart) +
                      " after the preamble");
  std::string headerText(headerLength, '\0');
  file.readAt(headerStart, headerText.data(), headerLength, ".npy header");

  PyValue header = HeaderParser(headerText, path).parse();
  auto bad = [&](const std::string &why) {
    return FormatError(path + ": bad .npy header: " + why +
                       " (header: " + quoteForMessage(headerText) + ")");
  };
  if (header.kind != PyValue::Dict)
    throw bad("not a dictionary");
  const PyValue *descr = nullptr, *fortranOrder = nullptr, *shape = nullptr;
  for (const auto &[key, value] : header.entries) {
    if (key == "descr")
      descr = &value;
    else if (key == "fortran_order")
      fortranOrder = &value;
    else if (key == "shape")
      shape = &value;
    else
      throw bad("unexpected key '" + key + "'");
  }
  if (!descr)
    throw bad("missing key 'descr'");
  if (!fortranOrder)
    throw bad("missing key 'fortran_order'");
  if (!shape)
    throw bad("missing key 'shape'");
  if (fortranOrder->kind != PyValue::Bool)
    throw bad("'fortran_order' is " + fortranOrder->source +
              ", not True or False");
  std::vector<uint64_t> dims;
  bool shapeOk = shape->kind == PyValue::Tuple;
  for (const PyValue &item : shape->items) {
    shapeOk = shapeOk && item.kind == PyValue::Integer;
    dims.push_back(item.integer);
  }
  if (!shapeOk)
    throw bad("'shape' is " + shape->source +
              ", not a tuple of non-negative integers");
  if (descr->kind != PyValue::String)
    throw FormatError(path + ": unsupported dtype " + descr->source +
                      " (structured arrays are not supported); supported: "
                      "'<f4' (float32) and '<f2' (float16)");

  DType type = parseDescr(path, descr->text);
  if (fortranOrder->boolean)
    throw FormatError(path +
                      ": fortran_order is True (column-major data) "
                      "for shape " +
                      shapeRepr(dims) +
                      "; only C-order arrays are supported (save "
                      "np.ascontiguousarray(a))");
  if (dims.empty() || dims.size() > 2)
    throw FormatError(path + ": " + std::to_string(dims.size()) +
                      "-D array (shape " + shapeRepr(dims) +
                      ") is not a matrix; expected a 1-D or 2-D array");

  uint64_t rows = dims.size() == 1 ? 1 : dims[0];
  uint64_t cols = dims.back();
  uint64_t itemSize = bitWidth(type) / 8;
  uint64_t elements, dataBytes;
  if (__builtin_mul_overflow(rows, cols, &elements) ||
      __builtin_mul_overflow(elements, itemSize, &dataBytes) ||
      elements > std::numeric_limits<size_t>::max() / sizeof(float))
    throw FormatError(path + ": shape " + shapeRepr(dims) + " is too large");

  uint64_t dataStart = headerStart + headerLength;
  uint64_t available = fileSize - dataStart;
  std::string expected = "header says shape " + shapeRepr(dims) + " " +
                         dtypeName(type) + " (" + std::to_string(dataBytes) +
                         " bytes of data), file has " +
                         std::to_string(available);
  if (available < dataBytes)
    throw FormatError(path + ": truncated: " + expected);
  if (available > dataBytes)
    throw FormatError(path + ": size mismatch: " + expected + " (" +
                      std::to_string(available - dataBytes) +
                      " trailing bytes)");

  std::vector<uint8_t> data(dataBytes);
  file.readAt(dataStart, data.data(), dataBytes, ".npy data");
  Matrix m(rows, cols, type);
  detail::decodeInto(data.data(), elements, type, m.values.data());
  return m;
}

void writeNpy(const std::string &path, const Matrix &m, DType type) {
  if (type == DType::BF16)
    throw Error(path + ": .npy has no bfloat16 dtype; write f32 or f16");
  detail::requireConsistent(m, path);

  // Exactly np.save's layout (numpy >= 1.23): the dict with sorted keys,
  // spare spaces so the first dimension can grow in place (21 digits), then
  // spaces and '\n' up to a multiple of 64 bytes (a full 64 when already
  // aligned).
  std::string rows = std::to_string(m.rows);
  std::string dict = std::string("{'descr': '") +
                     (type == DType::F32 ? "<f4" : "<f2") +
                     "', 'fortran_order': False, 'shape': (" + rows + ", " +
                     std::to_string(m.cols) + "), }";
  dict.append(rows.size() < 21 ? 21 - rows.size() : 0, ' ');
  size_t padding = 64 - (detail::kNpyMagicSize + 4 + dict.size() + 1) % 64;
  dict.append(padding, ' ');
  dict.push_back('\n');

  std::string bytes(detail::kNpyMagic, detail::kNpyMagicSize);
  bytes.push_back('\x01');
  bytes.push_back('\x00');
  bytes.push_back(static_cast<char>(dict.size() & 0xff));
  bytes.push_back(static_cast<char>(dict.size() >> 8));
  bytes += dict;
  detail::appendEncoded(bytes, m, type, path);
  detail::writeFileAtomically(path, bytes);
}

} // namespace qet::quant
