//===- NpyTest.cpp - .npy reader and writer -------------------------------===//

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/MatrixIO.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

using namespace qet::quant;
namespace fs = std::filesystem;

namespace {

using qet::test::bitsOf;
using qet::test::expectFormatError;
using qet::test::expectSameBits;

using NpyTest = qet::test::ScratchDirTest;

/// A .npy file as numpy lays it out, with `dict` as the header text.
std::string npyFile(const std::string &dict, const std::string &data,
                    int major = 1) {
  size_t lengthField = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((6 + 2 + lengthField + header.size() + 1) % 64)
    header.push_back(' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY", 6);
  bytes.push_back(static_cast<char>(major));
  bytes.push_back('\0');
  for (size_t i = 0; i < lengthField; ++i)
    bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return bytes + header + data;
}

std::string f32Data(const std::vector<float> &values) {
  std::string bytes;
  for (float value : values) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    for (int i = 0; i < 4; ++i)
      bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  return bytes;
}

std::string u16Data(const std::vector<uint16_t> &values) {
  std::string bytes;
  for (uint16_t bits : values) {
    bytes.push_back(static_cast<char>(bits & 0xff));
    bytes.push_back(static_cast<char>(bits >> 8));
  }
  return bytes;
}

std::string dict(const std::string &descr, const std::string &shape,
                 const char *fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }";
}

/// 3 * N(0, 1) values on the grid of `grid`.
Matrix randomMatrix(size_t rows, size_t cols, uint64_t seed, DType grid) {
  return qet::test::gaussianMatrix(rows, cols, seed, 3.0, grid);
}

} // namespace

TEST_F(NpyTest, RoundTripF32IsBitExact) {
  Matrix m = randomMatrix(5, 7, 1, DType::F32);
  // Extremes and specials survive too: -0, subnormals, the largest finite
  // value, Inf and NaN.
  m.values[0] = -0.0f;
  m.values[1] = std::numeric_limits<float>::denorm_min();
  m.values[2] = -std::numeric_limits<float>::max();
  m.values[3] = std::numeric_limits<float>::infinity();
  m.values[4] = std::numeric_limits<float>::quiet_NaN();
  writeNpy(file("a.npy"), m, DType::F32);
  Matrix back = readNpy(file("a.npy"));
  EXPECT_EQ(back.storage, DType::F32);
  expectSameBits(m, back);
}

TEST_F(NpyTest, RoundTripF16IsExactOnTheGrid) {
  Matrix m = randomMatrix(4, 9, 2, DType::F16);
  m.values[0] = kHalfMax;
  m.values[1] = std::ldexp(1.0f, -24); // smallest fp16 subnormal
  m.values[2] = -0.0f;
  writeNpy(file("h.npy"), m, DType::F16);
  Matrix back = readNpy(file("h.npy"));
  EXPECT_EQ(back.storage, DType::F16);
  expectSameBits(m, back);
}

TEST_F(NpyTest, WriteF16RoundsHalfToEven) {
  Matrix m(1, 3);
  m.values = {1.0f + std::ldexp(1.0f, -11),        // halfway: to even 1.0
              1.0f + 3.0f * std::ldexp(1.0f, -11), // halfway: to 1 + 2^-9
              65519.0f};                           // below 65520: to 65504
  writeNpy(file("r.npy"), m, DType::F16);
  Matrix back = readNpy(file("r.npy"));
  EXPECT_EQ(back.values[0], 1.0f);
  EXPECT_EQ(back.values[1], 1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(back.values[2], kHalfMax);
}

TEST_F(NpyTest, WriteRefusesOverflowAndBF16WithoutLeavingFiles) {
  Matrix m(1, 2);
  m.values = {1.0f, 70000.0f};
  EXPECT_THROW(writeNpy(file("o.npy"), m, DType::F16), Error);
  EXPECT_THROW(writeNpy(file("b.npy"), m, DType::BF16), Error);
  Matrix inconsistent(2, 2);
  inconsistent.values.resize(3);
  EXPECT_THROW(writeNpy(file("c.npy"), inconsistent, DType::F32), Error);
  EXPECT_TRUE(listDir().empty());
}

TEST_F(NpyTest, HeaderIsLaidOutLikeNumpy) {
  // np.save(f, np.zeros((3, 4), np.float32)) with numpy 1.24 writes exactly
  // this 128-byte preamble: header length 0x76, 21 - len("3") spare spaces,
  // padding to 64 bytes, '\n'.
  Matrix m(3, 4);
  writeNpy(file("z.npy"), m, DType::F32);
  std::string bytes = readBytes(file("z.npy"));
  std::string expected("\x93NUMPY\x01\x00\x76\x00", 10);
  expected += "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
  expected.append(127 - expected.size(), ' ');
  expected += '\n';
  ASSERT_EQ(bytes.size(), 128u + 12 * 4);
  EXPECT_EQ(bytes.substr(0, 128), expected);

  // The data always starts on a 64-byte boundary, whatever the shape.
  Matrix empty(0, 0);
  writeNpy(file("e.npy"), empty, DType::F16);
  bytes = readBytes(file("e.npy"));
  EXPECT_EQ(bytes.size(), 128u);
  EXPECT_EQ(bytes.back(), '\n');
  EXPECT_NE(bytes.find("'descr': '<f2'"), std::string::npos);
  empty = readNpy(file("e.npy"));
  EXPECT_EQ(empty.storage, DType::F16);
  EXPECT_EQ(empty.rows, 0u);
  EXPECT_EQ(empty.cols, 0u);
}

TEST_F(NpyTest, ReadsHandBuiltF16Exactly) {
  // fp16 bit patterns and their exact values.
  std::vector<uint16_t> bits = {0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000};
  std::vector<float> expected = {
      1.0f, -2.0f, 0.333251953125f, 65504.0f, std::ldexp(1.0f, -24), -0.0f};
  writeBytes(file("h.npy"), npyFile(dict("<f2", "(2, 3)"), u16Data(bits)));
  Matrix m = readNpy(file("h.npy"));
  EXPECT_EQ(m.storage, DType::F16);
  ASSERT_EQ(m.rows, 2u);
  ASSERT_EQ(m.cols, 3u);
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(bitsOf(m.values[i]), bitsOf(expected[i])) << "element " << i;
}

TEST_F(NpyTest, ReadsFormatVersions2And3) {
  std::vector<float> values = {1.5f, -2.25f, 3.0f, 0.125f};
  for (int major : {2, 3}) {
    std::string path = file("v" + std::to_string(major) + ".npy");
    writeBytes(path, npyFile(dict("<f4", "(2, 2)"), f32Data(values), major));
    Matrix m = readNpy(path);
    EXPECT_EQ(m.rows, 2u);
    EXPECT_EQ(m.cols, 2u);
    EXPECT_EQ(m.values, values);
  }
}

TEST_F(NpyTest, OneDimensionalArrayIsOneRow) {
  std::vector<float> values = {1, 2, 3, 4, 5};
  writeBytes(file("v.npy"), npyFile(dict("<f4", "(5,)"), f32Data(values)));
  Matrix m = readNpy(file("v.npy"));
  EXPECT_EQ(m.rows, 1u);
  EXPECT_EQ(m.cols, 5u);
  EXPECT_EQ(m.values, values);
}

TEST_F(NpyTest, AcceptsNativeOrderAndOtherValidHeaderSpellings) {
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  std::string data = f32Data(values);
  const std::string headers[] = {
      dict("=f4", "(2, 3)"), dict("|f4", "(2, 3)"), dict("f4", "(2, 3)"),
      // Keys in another order, double quotes, no trailing comma.
      "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}",
      // Python 2 longs, as old numpy wrote them.
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"};
  for (const std::string &header : headers) {
    writeBytes(file("n.npy"), npyFile(header, data));
    Matrix m = readNpy(file("n.npy"));
    EXPECT_EQ(m.rows, 2u) << header;
    EXPECT_EQ(m.cols, 3u) << header;
    EXPECT_EQ(m.values, values) << header;
  }
}

TEST_F(NpyTest, FormatErrorsNameTheProblem) {
  std::string path = file("bad.npy");
  std::string data = f32Data({1, 2, 3, 4, 5, 6});
  auto expectError = [&](const std::string &bytes, const std::string &phrase) {
    writeBytes(path, bytes);
    expectFormatError([&] { readNpy(path); }, phrase);
  };
  std::string good = npyFile(dict("<f4", "(2, 3)"), data);

  std::string wrongMagic = good;
  wrongMagic[1] = 'n';
  expectError(wrongMagic, "wrong magic");
  expectError("PK\x03\x04 not numpy at all", "not a .npy file");

  std::string version = good;
  version[6] = 4;
  expectError(version, "unsupported .npy format version 4.0");
  version = good;
  version[7] = 1;
  expectError(version, "unsupported .npy format version 1.1");

  expectError(npyFile("{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (2, 3), ",
                      data),
              "bad .npy header");
  expectError(npyFile("[1, 2, 3]", data), "bad .npy header: not a dictionary");
  expectError(npyFile("{'descr': '<f4', 'fortran_order': False}", data),
              "missing key 'shape'");
  expectError(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': "
                      "(2, 3), 'extra': 1}",
                      data),
              "unexpected key 'extra'");
  expectError(npyFile(dict("<f4", "[2, 3]"), data),
              "'shape' is [2, 3], not a tuple");
  expectError(npyFile(dict("<f4", "(2, -3)"), data), "negative number -3");
  expectError(npyFile(dict("<f4", "(2, 3)", "0"), data),
              "'fortran_order' is 0");
  expectError(npyFile("{'descr': '<f4', 'fortran_order': Maybe}", data),
              "unexpected name 'Maybe'");
  expectError(npyFile("{'descr': '<f4\x01", data), "unterminated string");
  // The header length field points past the end of the file.
  std::string cut = good.substr(0, 40);
  expectError(cut, "truncated: the .npy header length is 118 bytes");

  expectError(npyFile(dict("<f8", "(2, 3)"), data + data),
              "unsupported dtype '<f8' (float64)");
  expectError(npyFile(dict("<i4", "(2, 3)"), data),
              "unsupported dtype '<i4' (int32)");
  expectError(npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
                      "'shape': (2, 3), }",
                      data),
              "unsupported dtype [('a', '<f4')] (structured");
  expectError(npyFile(dict(">f4", "(2, 3)"), data),
              "big-endian dtype '>f4' is not supported");
  expectError(npyFile(dict(">f2", "(2, 3)"), data),
              "big-endian dtype '>f2' is not supported");
  expectError(npyFile(dict("<f4", "(2, 3)", "True"), data),
              "fortran_order is True");
  expectError(npyFile(dict("<f4", "()"), data.substr(0, 4)),
              "0-D array (shape ()) is not a matrix");
  expectError(npyFile(dict("<f4", "(1, 2, 3)"), data),
              "3-D array (shape (1, 2, 3)) is not a matrix");
  expectError(npyFile(dict("<f4", "(2, 3)"), data.substr(0, 20)),
              "truncated: header says shape (2, 3) f32 (24 bytes of data), "
              "file has 20");
  expectError(npyFile(dict("<f2", "(4096, 128)"), data),
              "truncated: header says shape (4096, 128) f16 (1048576 bytes "
              "of data), file has 24");
  expectError(npyFile(dict("<f4", "(2, 3)"), data + "junk"),
              "size mismatch: header says shape (2, 3) f32 (24 bytes of "
              "data), file has 28 (4 trailing bytes)");
  expectError(npyFile(dict("<f4", "(4294967296, 4294967296)"), data),
              "is too large");
}

TEST_F(NpyTest, MessagesStartWithThePath) {
  writeBytes(file("m.npy"), "garbage!");
  try {
    readNpy(file("m.npy"));
    FAIL() << "no exception";
  } catch (const FormatError &error) {
    EXPECT_EQ(std::string(error.what()).rfind(file("m.npy") + ": ", 0), 0u)
        << error.what();
  }
}

TEST_F(NpyTest, MissingFileIsAnErrorButNotAFormatError) {
  try {
    readNpy(file("absent.npy"));
    FAIL() << "no exception";
  } catch (const FormatError &error) {
    FAIL() << "a missing file is not a format problem: " << error.what();
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find("cannot open"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(readNpy(dir), Error); // a directory
}

TEST_F(NpyTest, EveryPrefixOfAValidFileFailsCleanly) {
  Matrix m = randomMatrix(2, 3, 3, DType::F16);
  for (DType type : {DType::F32, DType::F16}) {
    writeNpy(file("full.npy"), m, type);
    std::string bytes = readBytes(file("full.npy"));
    for (size_t length = 0; length <= bytes.size(); ++length) {
      writeBytes(file("cut.npy"), bytes.substr(0, length));
      if (length < bytes.size()) {
        EXPECT_THROW(readNpy(file("cut.npy")), FormatError)
            << dtypeName(type) << " prefix of " << length << " bytes";
        EXPECT_THROW(readMatrix(file("cut.npy")), FormatError)
            << dtypeName(type) << " prefix of " << length << " bytes";
      } else {
        expectSameBits(m, readNpy(file("cut.npy")));
        expectSameBits(m, readMatrix(file("cut.npy")));
      }
    }
  }
}

TEST_F(NpyTest, WritesReplaceAtomically) {
  Matrix first = randomMatrix(3, 3, 4, DType::F32);
  Matrix second = randomMatrix(2, 5, 5, DType::F32);
  writeNpy(file("x.npy"), first, DType::F32);
  writeNpy(file("x.npy"), second, DType::F32);
  expectSameBits(second, readNpy(file("x.npy")));
  EXPECT_EQ(listDir(), std::vector<std::string>{"x.npy"});

  // The rename onto a directory fails: the temporary file must not remain.
  fs::create_directory(dir / "target.npy");
  EXPECT_THROW(writeNpy(file("target.npy"), first, DType::F32), Error);
  EXPECT_EQ(listDir(), (std::vector<std::string>{"target.npy", "x.npy"}));
  // A missing directory: nothing can be created.
  EXPECT_THROW(writeNpy(file("no/such/dir.npy"), first, DType::F32), Error);
}

//===----------------------------------------------------------------------===//
// Interoperability with numpy itself, when /usr/bin/python3 has it.
//===----------------------------------------------------------------------===//

static bool haveNumpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

static int runPython(const std::string &script, const std::string &dir) {
  std::string path = dir + "/script.py";
  {
    std::ofstream out(path);
    out << script;
  }
  int status =
      std::system(("/usr/bin/python3 " + path + " '" + dir + "'").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(NpyTest, ReadsWhatNumpyWrites) {
  if (!haveNumpy())
    GTEST_SKIP() << "numpy is not importable by /usr/bin/python3";
  const char *script = R"(
import sys, numpy as np
from numpy.lib import format
d = sys.argv[1]
a = ((np.arange(12, dtype=np.float64).reshape(3, 4) - 5) / 7).astype('<f4')
np.save(d + '/f4.npy', a)
with open(d + '/f4v2.npy', 'wb') as f:
    format.write_array(f, a, version=(2, 0))
np.save(d + '/f4fortran.npy', np.asfortranarray(a))
np.save(d + '/f4big.npy', a.astype('>f4'))
np.save(d + '/f8.npy', a.astype('<f8'))
h = np.array([[1, -2, 0.5], [65504, 2.0**-24, -0.0]], dtype='<f2')
np.save(d + '/f2.npy', h)
np.save(d + '/vec.npy', (np.arange(5) / 3).astype('<f4'))
)";
  ASSERT_EQ(runPython(script, dir), 0);

  Matrix a = readNpy(file("f4.npy"));
  ASSERT_EQ(a.rows, 3u);
  ASSERT_EQ(a.cols, 4u);
  EXPECT_EQ(a.storage, DType::F32);
  for (int i = 0; i < 12; ++i) // numpy divides in double, then rounds once
    EXPECT_EQ(a.values[i], static_cast<float>((i - 5) / 7.0)) << i;
  expectSameBits(a, readNpy(file("f4v2.npy")));

  Matrix h = readNpy(file("f2.npy"));
  EXPECT_EQ(h.storage, DType::F16);
  std::vector<float> expected = {1,    -2, 0.5, 65504, std::ldexp(1.0f, -24),
                                 -0.0f};
  ASSERT_EQ(h.values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(bitsOf(h.values[i]), bitsOf(expected[i])) << i;

  Matrix v = readNpy(file("vec.npy"));
  EXPECT_EQ(v.rows, 1u);
  ASSERT_EQ(v.cols, 5u);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(v.values[i], static_cast<float>(i / 3.0)) << i;

  expectFormatError([&] { readNpy(file("f4fortran.npy")); },
                    "fortran_order is True");
  expectFormatError([&] { readNpy(file("f4big.npy")); }, "big-endian");
  expectFormatError([&] { readNpy(file("f8.npy")); }, "'<f8' (float64)");
}

TEST_F(NpyTest, NumpyReadsWhatWeWriteAndRewritesItByteForByte) {
  if (!haveNumpy())
    GTEST_SKIP() << "numpy is not importable by /usr/bin/python3";
  Matrix m(3, 5);
  for (size_t i = 0; i < m.values.size(); ++i)
    m.values[i] = static_cast<float>(i) / 4.0f - 1.5f; // on the fp16 grid
  writeNpy(file("ours_f4.npy"), m, DType::F32);
  writeNpy(file("ours_f2.npy"), m, DType::F16);
  Matrix tall(1234567, 0); // a long first dimension changes the padding
  writeNpy(file("ours_tall.npy"), tall, DType::F32);
  const char *script = R"(
import sys, numpy as np
d = sys.argv[1]
expected = (np.arange(15, dtype=np.float32) / 4 - 1.5).reshape(3, 5)
for name, dtype, want in [('ours_f4', '<f4', expected),
                          ('ours_f2', '<f2', expected.astype('<f2')),
                          ('ours_tall', '<f4', np.zeros((1234567, 0), '<f4'))]:
    a = np.load(d + '/' + name + '.npy')
    assert a.dtype == np.dtype(dtype), (name, a.dtype)
    assert a.shape == want.shape, (name, a.shape)
    assert np.array_equal(a, want), name
    np.save(d + '/numpy_' + name + '.npy', a)
    assert open(d + '/' + name + '.npy', 'rb').read() == \
        open(d + '/numpy_' + name + '.npy', 'rb').read(), name
)";
  EXPECT_EQ(runPython(script, dir), 0);
}
