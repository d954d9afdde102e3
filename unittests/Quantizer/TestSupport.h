//===- TestSupport.h - Helpers shared by the quantizer unit tests ---*- C++ -*-===//
#ifndef QET_UNITTESTS_QUANTIZER_TESTSUPPORT_H
#define QET_UNITTESTS_QUANTIZER_TESTSUPPORT_H

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace qet::test {

/// rows x cols of sigma * N(0, 1) drawn from Rng(seed) in row-major order
/// (product in double), each value rounded to fp32 and then to `storage`.
inline quant::Matrix gaussianMatrix(size_t rows, size_t cols, uint64_t seed,
                                    double sigma,
                                    quant::DType storage = quant::DType::F32) {
  quant::Rng rng(seed);
  quant::Matrix m(rows, cols, storage);
  for (float &v : m.values)
    v = quant::roundTo(storage, static_cast<float>(sigma * rng.normal()));
  return m;
}

/// The bit pattern of a float.
inline uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

/// Same shape and bit-identical elements.
inline void expectSameBits(const quant::Matrix &expected,
                           const quant::Matrix &actual) {
  ASSERT_EQ(expected.rows, actual.rows);
  ASSERT_EQ(expected.cols, actual.cols);
  ASSERT_EQ(actual.values.size(), actual.rows * actual.cols);
  for (size_t i = 0; i < expected.values.size(); ++i)
    ASSERT_EQ(bitsOf(expected.values[i]), bitsOf(actual.values[i]))
        << "element " << i << ": " << expected.values[i] << " vs "
        << actual.values[i];
}

/// Runs `body`, which must throw FormatError with `phrase` in its message.
template <typename Body>
void expectFormatError(Body &&body, const std::string &phrase) {
  try {
    body();
    ADD_FAILURE() << "no exception; expected FormatError with \"" << phrase
                  << "\"";
  } catch (const quant::FormatError &error) {
    EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos)
        << "message: " << error.what() << "\nexpected phrase: " << phrase;
  } catch (const std::exception &error) {
    ADD_FAILURE() << "wrong exception type; message: " << error.what();
  }
}

/// Bits in the streams' bytes less the zero padding of each last byte;
/// checks each stream holds ceil(bits / 8) bytes with zero padding bits.
inline uint64_t serializedBits(const quant::PackedMatrix &packed) {
  uint64_t total = 0;
  for (const quant::PackedStream &s : packed.streams) {
    EXPECT_EQ(s.bytes.size(), (s.bits() + 7) / 8) << s.component;
    uint64_t padding = 8 * s.bytes.size() - s.bits();
    EXPECT_LT(padding, 8u) << s.component;
    if (padding)
      EXPECT_EQ(s.bytes.back() >> (8 - padding), 0) << s.component;
    total += 8 * s.bytes.size() - padding;
  }
  return total;
}

/// The same streams, in the same order, with identical bytes.
inline void expectSameStreams(const quant::PackedMatrix &a,
                              const quant::PackedMatrix &b) {
  ASSERT_EQ(a.streams.size(), b.streams.size());
  for (size_t s = 0; s < a.streams.size(); ++s) {
    EXPECT_EQ(a.streams[s].component, b.streams[s].component);
    EXPECT_EQ(a.streams[s].bytes, b.streams[s].bytes) << a.streams[s].component;
  }
}

/// The value a scheme reported for parameter `name` ("" when absent).
inline std::string param(const quant::QuantizeResult &result,
                         const std::string &name) {
  for (const auto &[key, value] : result.params)
    if (key == name)
      return value;
  return "";
}

/// A fresh directory per test under testing::TempDir(), removed afterwards.
class ScratchDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::path(::testing::TempDir()) /
          (std::string("qet-") + info->test_suite_name() + "-" + info->name() +
           "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string file(const std::string &name) const { return dir / name; }

  void writeBytes(const std::string &path, const std::string &bytes) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
  }

  std::string readBytes(const std::string &path) const {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::vector<std::string> listDir() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(dir))
      names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path dir;
};

} // namespace qet::test

#endif // QET_UNITTESTS_QUANTIZER_TESTSUPPORT_H
