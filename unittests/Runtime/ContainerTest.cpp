//===- ContainerTest.cpp - .qpk writer, reader and corruption handling ----===//

#include "qet/runtime/Container.h"
#include "qet/runtime/Crc32c.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace qet::runtime;

namespace {

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "qet-container-" + name;
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

void put32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}
void put64(std::vector<uint8_t> &b, size_t at, uint64_t v) {
  std::memcpy(b.data() + at, &v, 8);
}

/// Re-seals a modified file: table and header checksums recomputed, so the
/// reader's structural checks (not the checksums) must catch the change.
void reseal(std::vector<uint8_t> &b) {
  uint64_t tableSize;
  std::memcpy(&tableSize, b.data() + 32, 8);
  put32(b, 40, crc32c(b.data() + 64, tableSize));
  put32(b, 60, crc32c(b.data(), 60));
}

struct Fixture {
  std::vector<uint8_t> codes, scales, empty;
  std::vector<TensorData> tensors;

  Fixture() {
    for (int i = 0; i < 75; ++i) // 100 fields of 6 bits = 75 bytes
      codes.push_back(static_cast<uint8_t>(i * 37 + 11));
    for (int i = 0; i < 20; ++i)
      scales.push_back(static_cast<uint8_t>(200 - i));
    TensorData a;
    a.name = "layer0.weight";
    a.scheme = "rtn";
    a.rows = 10;
    a.cols = 10;
    a.dtype = ElementType::F16;
    a.params = {{"bits", 6}, {"group", 10}, {"negative", -5}};
    a.sections = {{"codes", 6, 100, codes.data(), codes.size()},
                  {"scales", 16, 10, scales.data(), scales.size()}};
    TensorData b;
    b.name = "layer1.weight";
    b.scheme = "pq";
    b.rows = 3;
    b.cols = 4;
    b.dtype = ElementType::BF16;
    b.sections = {{"codes", 0, 12, nullptr, 0}, // one-entry codebook
                  {"codebooks", 16, 10, scales.data(), scales.size()}};
    tensors = {a, b};
  }
};

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu); // RFC 3720
  // Incremental == one shot, across the 8-byte hardware blocks.
  std::string text = "The quick brown fox jumps over the lazy dog, twice.";
  uint32_t part = crc32c(text.data(), 13);
  EXPECT_EQ(crc32c(text.data() + 13, text.size() - 13, part),
            crc32c(text.data(), text.size()));
}

TEST(Container, RoundTrip) {
  Fixture f;
  std::string path = tempPath("roundtrip.qpk");
  ::unlink(path.c_str());
  writeContainer(path, f.tensors, false);
  Container c = Container::open(path);
  ASSERT_EQ(c.tensors().size(), 2u);
  const TensorInfo &a = c.tensor("layer0.weight");
  EXPECT_EQ(a.scheme, "rtn");
  EXPECT_EQ(a.rows, 10u);
  EXPECT_EQ(a.dtype, ElementType::F16);
  EXPECT_EQ(a.params, f.tensors[0].params);
  const SectionInfo &codes = a.section("codes");
  EXPECT_EQ(codes.offset % kSectionAlignment, 0u);
  EXPECT_EQ(codes.bitsEach, 6u);
  EXPECT_EQ(codes.count, 100u);
  EXPECT_EQ(std::memcmp(c.sectionBytes(a, codes), f.codes.data(), 75), 0);
  EXPECT_EQ(std::memcmp(c.sectionBytes(a, a.section("scales")),
                        f.scales.data(), 20), 0);
  const TensorInfo &b = c.tensor("layer1.weight");
  EXPECT_EQ(b.dtype, ElementType::BF16);
  EXPECT_EQ(b.section("codes").size, 0u);
  c.verify();
  EXPECT_THROW(c.tensor("nope"), ContainerError);
  EXPECT_THROW(a.section("nope"), ContainerError);
}

TEST(Container, EmptyContainer) {
  std::string path = tempPath("empty.qpk");
  ::unlink(path.c_str());
  writeContainer(path, {}, false);
  Container c = Container::open(path);
  EXPECT_TRUE(c.tensors().empty());
  EXPECT_EQ(readFile(path).size(), 64u);
}

TEST(Container, NeverClobbers) {
  Fixture f;
  std::string path = tempPath("keep.qpk");
  writeFile(path, {1, 2, 3});
  EXPECT_THROW(writeContainer(path, f.tensors, false), ContainerError);
  EXPECT_EQ(readFile(path), (std::vector<uint8_t>{1, 2, 3}));
  // Invalid input fails before anything is written, even with replace.
  std::vector<TensorData> bad = f.tensors;
  bad[0].sections[0].size = 74;
  EXPECT_THROW(writeContainer(path, bad, true), ContainerError);
  EXPECT_EQ(readFile(path), (std::vector<uint8_t>{1, 2, 3}));
  bad = f.tensors;
  bad[1].name = bad[0].name;
  EXPECT_THROW(writeContainer(path, bad, true), ContainerError);
  EXPECT_EQ(readFile(path), (std::vector<uint8_t>{1, 2, 3}));
  // A folder that does not exist: nothing is created.
  EXPECT_THROW(writeContainer(tempPath("no/such/dir/x.qpk"), f.tensors, true),
               ContainerError);
  // replace = true does replace, and leaves no temporary file behind.
  writeContainer(path, f.tensors, true);
  EXPECT_NO_THROW(Container::open(path));
}

std::string openError(const std::string &path) {
  try {
    Container c = Container::open(path);
    c.verify();
  } catch (const ContainerError &e) {
    return e.what();
  }
  return "";
}

TEST(Container, EveryTruncationIsAnError) {
  Fixture f;
  std::string path = tempPath("full.qpk");
  ::unlink(path.c_str());
  writeContainer(path, f.tensors, false);
  std::vector<uint8_t> bytes = readFile(path);
  std::string cut = tempPath("cut.qpk");
  for (size_t length = 0; length < bytes.size(); ++length) {
    writeFile(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + length));
    EXPECT_NE(openError(cut), "") << "prefix of " << length << " bytes";
  }
  writeFile(cut, bytes);
  EXPECT_EQ(openError(cut), "");
}

TEST(Container, FlippedBitsAreNamed) {
  Fixture f;
  std::string path = tempPath("flip.qpk");
  ::unlink(path.c_str());
  writeContainer(path, f.tensors, false);
  std::vector<uint8_t> bytes = readFile(path);
  Container c = Container::open(path);
  std::string bad = tempPath("flipped.qpk");
  struct Case {
    size_t at;
    std::string expected;
  };
  const TensorInfo &a = c.tensor("layer0.weight");
  std::vector<Case> cases = {
      {3, "bad magic"},
      {20, "header checksum mismatch"},
      {70, "tensor table checksum mismatch"},
      {a.section("codes").offset + 40,
       "checksum mismatch in section 'codes' of tensor 'layer0.weight'"},
      {a.section("scales").offset,
       "checksum mismatch in section 'scales' of tensor 'layer0.weight'"},
      {c.tensor("layer1.weight").section("codebooks").offset + 19,
       "checksum mismatch in section 'codebooks' of tensor 'layer1.weight'"},
  };
  for (const Case &k : cases) {
    std::vector<uint8_t> copy = bytes;
    copy[k.at] ^= 0x10;
    writeFile(bad, copy);
    EXPECT_NE(openError(bad).find(k.expected), std::string::npos)
        << "byte " << k.at << ": " << openError(bad);
  }
}

TEST(Container, StructuralErrorsHaveTheirOwnMessages) {
  Fixture f;
  std::string path = tempPath("struct.qpk");
  ::unlink(path.c_str());
  writeContainer(path, f.tensors, false);
  std::vector<uint8_t> bytes = readFile(path);
  std::string bad = tempPath("struct-bad.qpk");
  auto expectError = [&](std::vector<uint8_t> copy, const std::string &phrase) {
    reseal(copy);
    writeFile(bad, copy);
    std::string error = openError(bad);
    EXPECT_NE(error.find(phrase), std::string::npos) << error;
  };
  // Table layout of tensor 0: name (4 + 13), scheme (4 + 3), rows at 88.
  const size_t rows = 64 + 4 + 13 + 4 + 3;
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, 8, 2);
    expectError(copy, "unsupported container version 2 (this build reads 1)");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put64(copy, rows, uint64_t{1} << 60);
    expectError(copy, "absurd shape");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, rows + 16, 7);
    expectError(copy, "unknown dtype code 7");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, rows + 20, 0x7fffffff); // parameter count
    expectError(copy, "parameter count 2147483647 exceeds the table");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, 64, 0xffffff); // name length
    expectError(copy, "tensor name is 16777215 bytes long");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, 12, 3); // tensor count larger than the table
    expectError(copy, "table ends inside tensor name");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put32(copy, 12, 1); // tensor count smaller than the table
    expectError(copy, "bytes left after the last of 1 tensors");
  }
  {
    std::vector<uint8_t> copy = bytes;
    put64(copy, 16, copy.size() + 64);
    expectError(copy, "truncated or extended");
  }
}

TEST(Container, SectionBoundsAreChecked) {
  Fixture f;
  std::string path = tempPath("bounds.qpk");
  ::unlink(path.c_str());
  writeContainer(path, f.tensors, false);
  std::vector<uint8_t> bytes = readFile(path);
  // Locate the first section record of tensor 0 by its name in the table.
  std::string needle = "codes";
  auto it = std::search(bytes.begin() + 64, bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(it, bytes.end());
  size_t record = static_cast<size_t>(it - bytes.begin()) + needle.size();
  std::string bad = tempPath("bounds-bad.qpk");
  auto error = [&](std::vector<uint8_t> copy) {
    reseal(copy);
    writeFile(bad, copy);
    return openError(bad);
  };
  std::vector<uint8_t> copy = bytes;
  put32(copy, record, 40); // 40-bit fields
  EXPECT_NE(error(copy).find("40-bit fields (at most 32)"), std::string::npos);
  copy = bytes;
  put64(copy, record + 4, 1000); // count no longer matches the size
  EXPECT_NE(error(copy).find("declares 1000 fields in 75 bytes"), std::string::npos);
  copy = bytes;
  put64(copy, record + 12, 1u << 30); // offset past the end
  EXPECT_NE(error(copy).find("lies outside the data area"), std::string::npos);
  copy = bytes;
  put64(copy, record + 12, 65); // misaligned
  EXPECT_NE(error(copy).find("lies outside the data area"), std::string::npos);
}

} // namespace
