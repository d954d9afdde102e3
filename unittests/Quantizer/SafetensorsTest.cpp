//===- SafetensorsTest.cpp - safetensors reader/writer, format dispatch ---===//

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace qet::quant;
namespace fs = std::filesystem;

namespace {

using qet::test::bitsOf;
using qet::test::expectFormatError;
using qet::test::expectSameBits;

using SafetensorsTest = qet::test::ScratchDirTest;

std::string lengthPrefix(uint64_t length) {
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return bytes;
}

/// A safetensors file with the given JSON header text and data section.
std::string stFile(const std::string &header, const std::string &data) {
  return lengthPrefix(header.size()) + header + data;
}

std::string u16Data(const std::vector<uint16_t> &values) {
  std::string bytes;
  for (uint16_t bits : values) {
    bytes.push_back(static_cast<char>(bits & 0xff));
    bytes.push_back(static_cast<char>(bits >> 8));
  }
  return bytes;
}

/// Runs `body`, which must throw Error (not FormatError) with `phrase`.
template <typename Body>
void expectPlainError(Body &&body, const std::string &phrase) {
  try {
    body();
    ADD_FAILURE() << "no exception; expected Error with \"" << phrase << "\"";
  } catch (const FormatError &error) {
    ADD_FAILURE() << "FormatError, expected plain Error: " << error.what();
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos)
        << "message: " << error.what() << "\nexpected phrase: " << phrase;
  }
}

/// 3 * N(0, 1) values on the grid of `grid`.
Matrix randomMatrix(size_t rows, size_t cols, uint64_t seed, DType grid) {
  return qet::test::gaussianMatrix(rows, cols, seed, 3.0, grid);
}

} // namespace

TEST_F(SafetensorsTest, RoundTripsEveryDtypeExactly) {
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtypeName(type));
    std::vector<std::pair<std::string, Matrix>> tensors = {
        {"layer.1.weight", randomMatrix(3, 5, 1, type)},
        {"layer.0.weight", randomMatrix(4, 2, 2, type)},
        {"bias", randomMatrix(1, 7, 3, type)}};
    std::string path = file("t.safetensors");
    writeSafetensors(path, tensors, type);

    std::vector<TensorInfo> infos = listSafetensors(path);
    ASSERT_EQ(infos.size(), 3u);
    EXPECT_EQ(infos[0].name, "bias");
    EXPECT_EQ(infos[1].name, "layer.0.weight");
    EXPECT_EQ(infos[2].name, "layer.1.weight");
    const char *expectedDtype = type == DType::F32   ? "F32"
                                : type == DType::F16 ? "F16"
                                                     : "BF16";
    uint64_t width = bitWidth(type) / 8;
    for (const TensorInfo &info : infos)
      EXPECT_EQ(info.dtype, expectedDtype);
    EXPECT_EQ(infos[2].shape, (std::vector<uint64_t>{3, 5}));
    // Data lies in the given order, back to back from offset 0.
    EXPECT_EQ(infos[2].begin, 0u);
    EXPECT_EQ(infos[2].end, 15 * width);
    EXPECT_EQ(infos[1].begin, 15 * width);
    EXPECT_EQ(infos[0].end, (15 + 8 + 7) * width);

    for (const auto &[name, m] : tensors) {
      Matrix back = readSafetensors(path, name);
      EXPECT_EQ(back.storage, type);
      expectSameBits(m, back);
    }
  }
}

TEST_F(SafetensorsTest, HeaderIsPaddedWithSpacesToEightBytes) {
  for (size_t nameLength = 1; nameLength <= 9; ++nameLength) {
    std::string path = file("p.safetensors");
    Matrix m = randomMatrix(2, 2, nameLength, DType::F32);
    writeSafetensors(path, {{std::string(nameLength, 'w'), m}}, DType::F32);
    std::string bytes = readBytes(path);
    ASSERT_GE(bytes.size(), 8u);
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i)
      length = length << 8 | static_cast<unsigned char>(bytes[i]);
    EXPECT_EQ(length % 8, 0u);
    ASSERT_EQ(bytes.size(), 8 + length + 16);
    std::string header = bytes.substr(8, length);
    size_t close = header.rfind('}');
    ASSERT_NE(close, std::string::npos);
    EXPECT_LT(header.size() - close - 1, 8u);
    EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos);
    EXPECT_EQ(header.find("\"" + std::string(nameLength, 'w') +
                          "\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                          "\"data_offsets\":[0,16]}"),
              1u)
        << header;
  }
}

TEST_F(SafetensorsTest, ReadsHandBuiltBF16AndF16Exactly) {
  // bf16 bits are the top half of the fp32 bits.
  std::vector<uint16_t> bf16 = {0x3f80, 0xc040, 0x3eab, 0x0001, 0x7f7f, 0x8000};
  std::vector<float> bf16Values = {1.0f,
                                   -3.0f,
                                   0.333984375f,
                                   std::ldexp(1.0f, -133), // smallest subnormal
                                   std::ldexp(255.0f, 120), // largest finite
                                   -0.0f};
  std::vector<uint16_t> f16 = {0x3555, 0xfbff};
  std::vector<float> f16Values = {0.333251953125f, -65504.0f};
  std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
      "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[12,16]}}";
  writeBytes(file("b.safetensors"),
             stFile(header, u16Data(bf16) + u16Data(f16)));

  std::vector<TensorInfo> infos = listSafetensors(file("b.safetensors"));
  ASSERT_EQ(infos.size(), 2u); // __metadata__ is not a tensor
  EXPECT_EQ(infos[0].name, "h");
  EXPECT_EQ(infos[0].shape, std::vector<uint64_t>{2});
  EXPECT_EQ(infos[0].begin, 12u);
  EXPECT_EQ(infos[0].end, 16u);
  EXPECT_EQ(infos[1].name, "w");

  Matrix w = readSafetensors(file("b.safetensors"), "w");
  EXPECT_EQ(w.storage, DType::BF16);
  ASSERT_EQ(w.rows, 2u);
  ASSERT_EQ(w.cols, 3u);
  for (size_t i = 0; i < bf16Values.size(); ++i)
    EXPECT_EQ(bitsOf(w.values[i]), bitsOf(bf16Values[i])) << "element " << i;

  Matrix h = readSafetensors(file("b.safetensors"), "h");
  EXPECT_EQ(h.storage, DType::F16);
  EXPECT_EQ(h.rows, 1u); // 1-D reads as one row
  ASSERT_EQ(h.cols, 2u);
  EXPECT_EQ(h.values, f16Values);
}

TEST_F(SafetensorsTest, ListsTensorsOfOtherDtypesButDoesNotReadThem) {
  std::string header =
      "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
      "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}";
  writeBytes(file("i.safetensors"), stFile(header, std::string(20, '\0')));
  std::vector<TensorInfo> infos = listSafetensors(file("i.safetensors"));
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].dtype, "I64");
  expectFormatError([&] { readSafetensors(file("i.safetensors"), "ids"); },
                    "tensor 'ids' has unsupported dtype I64");
  EXPECT_EQ(readSafetensors(file("i.safetensors"), "x").values,
            std::vector<float>{0.0f});
}

TEST_F(SafetensorsTest, FormatErrorsNameTheProblem) {
  std::string path = file("bad.safetensors");
  auto expectError = [&](const std::string &bytes, const std::string &phrase,
                         const std::string &tensor = "x") {
    writeBytes(path, bytes);
    expectFormatError([&] { readSafetensors(path, tensor); }, phrase);
  };
  auto entry = [](const std::string &dtype, const std::string &shape,
                  const std::string &offsets) {
    return "{\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}}";
  };
  std::string data(24, '\0');

  expectError("", "file is 0 bytes, shorter than 8 bytes");
  expectError("abcdefg", "file is 7 bytes, shorter than 8 bytes");
  expectError(lengthPrefix(100) + "{}", "header length 100 is larger than the "
                                        "file (2 bytes after the length)");
  expectError(lengthPrefix(100000001) + "{}", "is absurd");
  expectError(lengthPrefix(~uint64_t(0)) + "{}", "is absurd");
  expectError(stFile("{\"x\": [1, 2", data), "header is not valid JSON");
  expectError(stFile("\"just a string\"", data), "header is not a JSON object");
  expectError(stFile("{\"x\": 3}", data), "entry is not a JSON object");
  expectError(stFile("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data),
              "missing or non-string \"dtype\"");
  expectError(stFile(entry("F32", "[2, -3]", "[0, 24]"), data),
              "is not a list of non-negative integers");
  expectError(stFile(entry("F32", "[2, 3]", "[0]"), data),
              "\"data_offsets\" is not a pair");
  expectError(stFile(entry("F32", "[2, 3]", "[0, 28]"), data),
              "data_offsets [0, 28] out of range (the data section has 24 "
              "bytes)");
  expectError(stFile(entry("F32", "[2, 3]", "[8, 4]"), data), "out of range");
  expectError(stFile(entry("F32", "[2, 3]", "[0, 20]"), data),
              "data_offsets [0, 20] span 20 bytes, which does not match shape "
              "[2, 3] of F32 (24 bytes)");
  expectError(stFile(entry("F16", "[2, 3]", "[0, 24]"), data),
              "does not match shape [2, 3] of F16 (12 bytes)");
  expectError(stFile(entry("F32", "[4294967296, 4294967296]", "[0, 24]"), data),
              "does not match");
  expectError(stFile(entry("I64", "[3]", "[0, 24]"), data),
              "has unsupported dtype I64 (supported: F32, F16, BF16)");
  expectError(stFile(entry("F64", "[3]", "[0, 24]"), data),
              "unsupported dtype F64");
  expectError(stFile(entry("F32", "[1, 2, 3]", "[0, 24]"), data),
              "has shape [1, 2, 3] (3-D); expected a 1-D or 2-D tensor");
  expectError(stFile(entry("F32", "[]", "[0, 4]"), data), "has shape [] (0-D)");

  // Not found: the message lists the first 10 names (sorted) and a count.
  std::string header = "{";
  for (int i = 11; i >= 0; --i) {
    char name[8];
    std::snprintf(name, sizeof(name), "t%02d", i);
    header += std::string(i == 11 ? "" : ",") + "\"" + name +
              "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
  }
  header += "}";
  writeBytes(path, stFile(header, data));
  expectFormatError([&] { readSafetensors(path, "nope"); },
                    "tensor 'nope' not found; available: 't00', 't01', 't02', "
                    "'t03', 't04', 't05', 't06', 't07', 't08', 't09' (and 2 "
                    "more)");
  try {
    readSafetensors(path, "nope");
  } catch (const FormatError &error) {
    EXPECT_EQ(std::string(error.what()).find("t10"), std::string::npos);
  }
  writeBytes(path, stFile("{}", ""));
  expectFormatError([&] { readSafetensors(path, "x"); },
                    "tensor 'x' not found; available: none");
}

TEST_F(SafetensorsTest, MissingFileIsAPlainError) {
  expectPlainError([&] { listSafetensors(file("absent.safetensors")); },
                   "cannot open");
  expectPlainError([&] { readMatrix(file("absent.safetensors")); },
                   "cannot open");
}

TEST_F(SafetensorsTest, EveryPrefixOfAValidFileFailsCleanly) {
  std::vector<std::pair<std::string, Matrix>> tensors = {
      {"a", randomMatrix(2, 3, 7, DType::BF16)},
      {"b", randomMatrix(1, 2, 8, DType::BF16)}};
  writeSafetensors(file("full.safetensors"), tensors, DType::BF16);
  std::string bytes = readBytes(file("full.safetensors"));
  for (size_t length = 0; length <= bytes.size(); ++length) {
    writeBytes(file("cut.safetensors"), bytes.substr(0, length));
    if (length < bytes.size()) {
      EXPECT_THROW(listSafetensors(file("cut.safetensors")), FormatError)
          << "prefix of " << length << " bytes";
      EXPECT_THROW(readSafetensors(file("cut.safetensors"), "a"), FormatError)
          << "prefix of " << length << " bytes";
      EXPECT_THROW(readMatrix(file("cut.safetensors"), "b"), FormatError)
          << "prefix of " << length << " bytes";
    } else {
      expectSameBits(tensors[0].second,
                     readSafetensors(file("cut.safetensors"), "a"));
      expectSameBits(tensors[1].second,
                     readMatrix(file("cut.safetensors"), "b"));
    }
  }
}

TEST_F(SafetensorsTest, WriterRefusesBadRequestsWithoutLeavingFiles) {
  Matrix m = randomMatrix(2, 2, 9, DType::F32);
  std::string path = file("w.safetensors");
  EXPECT_THROW(writeSafetensors(path, {{"a", m}, {"a", m}}, DType::F32), Error);
  EXPECT_THROW(writeSafetensors(path, {{"__metadata__", m}}, DType::F32),
               Error);
  EXPECT_THROW(writeSafetensors(path, {{"", m}}, DType::F32), Error);
  Matrix big(1, 1);
  big.values[0] = 1e5f;
  EXPECT_THROW(writeSafetensors(path, {{"a", big}}, DType::F16), Error);
  big.values[0] = 3.4e38f; // rounds past the largest bf16
  EXPECT_THROW(writeSafetensors(path, {{"a", big}}, DType::BF16), Error);
  EXPECT_TRUE(listDir().empty());

  writeSafetensors(path, {}, DType::F32); // an empty file is valid
  EXPECT_TRUE(listSafetensors(path).empty());
}

TEST_F(SafetensorsTest, ReadMatrixPicksTheFormatByMagic) {
  Matrix m = randomMatrix(3, 4, 10, DType::F32);
  writeNpy(file("m.npy"), m, DType::F32);
  expectSameBits(m, readMatrix(file("m.npy")));
  expectPlainError([&] { readMatrix(file("m.npy"), "weight"); },
                   "tensor name 'weight' applies only to safetensors files");

  writeSafetensors(file("one.safetensors"), {{"only", m}}, DType::F32);
  expectSameBits(m, readMatrix(file("one.safetensors")));
  expectSameBits(m, readMatrix(file("one.safetensors"), "only"));

  Matrix other = randomMatrix(2, 2, 11, DType::F16);
  writeSafetensors(file("two.safetensors"), {{"q", m}, {"k", other}},
                   DType::F16);
  expectPlainError([&] { readMatrix(file("two.safetensors")); },
                   "holds 2 tensors; name the one to read: 'k', 'q'");
  Matrix k = readMatrix(file("two.safetensors"), "k");
  EXPECT_EQ(k.storage, DType::F16);
  expectSameBits(other, k);
  expectFormatError([&] { readMatrix(file("two.safetensors"), "v"); },
                    "tensor 'v' not found; available: 'k', 'q'");

  writeSafetensors(file("none.safetensors"), {}, DType::F32);
  expectPlainError([&] { readMatrix(file("none.safetensors")); },
                   "holds no tensors");

  writeBytes(file("text.txt"), "hello, this is not a tensor file\n");
  expectFormatError([&] { readMatrix(file("text.txt")); },
                    "is absurd (over the limit of 100000000 bytes): not a "
                    "safetensors file; it is not a .npy file either (no "
                    "\\x93NUMPY magic)");
}
