//===- TestSupport.h - Helpers shared by the quantizer unit tests ---*- C++ -*-===//
#ifndef QET_UNITTESTS_QUANTIZER_TESTSUPPORT_H
#define QET_UNITTESTS_QUANTIZER_TESTSUPPORT_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <algorithm>
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
