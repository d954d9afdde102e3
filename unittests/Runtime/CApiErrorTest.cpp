//===- CApiErrorTest.cpp - Every failure of the C API is a status ---------===//
//
// Null pointers, short or overlapping buffers, unknown names and schemes,
// files that are missing, malformed, corrupt or inconsistent with their
// scheme: each gets its own status and a message naming the file, tensor,
// section or argument; nothing throws or crashes.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "Quantizer/TestSupport.h"

#include "qet/Quantizer/Scheme.h"
#include "qet/runtime/Container.h"

#include <cstring>
#include <fstream>

using namespace qet;
using namespace qet::test;

namespace {

class CApiErrorTest : public ScratchDirTest {
protected:
  /// An rtn tensor "w" (5 x 40, 4 bits, group 16) at file("w.qpk").
  quant::QuantizeResult writeRtn() {
    quant::QuantizeOptions options;
    options.bits = 4;
    options.group = 16;
    quant::QuantizeResult r =
        quant::quantize("rtn", gaussianMatrix(5, 40, 3, 1.0), options);
    writeOne(file("w.qpk"), "w", r.packed);
    return r;
  }

  /// Writes tensors given section by section (for inconsistent ones).
  void writeRaw(const std::string &name,
                const std::vector<runtime::TensorData> &tensors) {
    runtime::writeContainer(file(name), tensors, /*replace=*/true);
  }
};

TEST_F(CApiErrorTest, OpeningFailures) {
  qet_container *c = reinterpret_cast<qet_container *>(0x1);
  EXPECT_QET_ERROR(qet_container_open(nullptr, &c), QET_ERROR_NULL_POINTER,
                   "'path'");
  EXPECT_EQ(c, nullptr); // outputs are cleared on failure
  EXPECT_QET_ERROR(qet_container_open("x.qpk", nullptr), QET_ERROR_NULL_POINTER,
                   "'out'");
  const std::string missing = file("missing.qpk");
  EXPECT_QET_ERROR(qet_container_open(missing.c_str(), &c), QET_ERROR_IO,
                   missing + ": cannot open");
  writeBytes(file("junk.qpk"), std::string(100, 'x'));
  EXPECT_QET_ERROR(qet_container_open(file("junk.qpk").c_str(), &c),
                   QET_ERROR_FORMAT, "bad magic");
  EXPECT_EQ(c, nullptr);
}

TEST_F(CApiErrorTest, CorruptSectionIsAChecksumErrorNamingIt) {
  writeRtn();
  uint64_t offset;
  {
    runtime::Container raw = runtime::Container::open(file("w.qpk"));
    offset = raw.tensor("w").section("scales").offset;
  }
  std::string bytes = readBytes(file("w.qpk"));
  bytes[offset + 3] ^= 0x10;
  writeBytes(file("w.qpk"), bytes);
  ContainerHandle c = openContainer(file("w.qpk")); // header and table are fine
  ASSERT_TRUE(c);
  EXPECT_QET_ERROR(qet_container_verify(c.get()), QET_ERROR_CHECKSUM,
                   "checksum mismatch in section 'scales' of tensor 'w'");
  qet_tensor *t = nullptr;
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "w", &t), QET_ERROR_CHECKSUM,
                   "section 'scales'");
  EXPECT_EQ(t, nullptr);
  // A corrupt header is a checksum error too.
  bytes[20] ^= 1;
  writeBytes(file("w.qpk"), bytes);
  qet_container *bad = nullptr;
  EXPECT_QET_ERROR(qet_container_open(file("w.qpk").c_str(), &bad),
                   QET_ERROR_CHECKSUM, "header checksum");
}

TEST_F(CApiErrorTest, SectionsAreReadInPlaceAfterTheirChecksum) {
  quant::QuantizeResult r = writeRtn();
  ContainerHandle c = openContainer(file("w.qpk"));
  ASSERT_TRUE(c);
  for (const char *name : {"codes", "scales", "zero_points"}) {
    const uint8_t *data = nullptr;
    size_t size = 0;
    ASSERT_EQ(qet_container_section(c.get(), "w", name, &data, &size), QET_OK)
        << qet_last_error();
    const std::vector<uint8_t> &written = r.packed.stream(name).bytes;
    ASSERT_EQ(size, written.size()) << name;
    EXPECT_EQ(std::memcmp(data, written.data(), size), 0) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % runtime::kSectionAlignment, 0u);
  }
  const uint8_t *data = reinterpret_cast<const uint8_t *>(0x1);
  size_t size = 7;
  EXPECT_QET_ERROR(qet_container_section(c.get(), "v", "codes", &data, &size),
                   QET_ERROR_NOT_FOUND, "no tensor 'v' (has: w)");
  EXPECT_EQ(data, nullptr); // outputs are cleared on failure
  EXPECT_EQ(size, 0u);
  EXPECT_QET_ERROR(qet_container_section(c.get(), "w", "codebooks", &data, &size),
                   QET_ERROR_NOT_FOUND,
                   "tensor 'w' has no section 'codebooks' (has: codes, scales, "
                   "zero_points)");
  EXPECT_QET_ERROR(qet_container_section(c.get(), nullptr, "codes", &data, &size),
                   QET_ERROR_NULL_POINTER, "'tensor'");
  EXPECT_QET_ERROR(qet_container_section(c.get(), "w", "codes", nullptr, &size),
                   QET_ERROR_NULL_POINTER, "'data'");

  // A flipped bit in the section is found when it is read.
  uint64_t offset;
  {
    runtime::Container raw = runtime::Container::open(file("w.qpk"));
    offset = raw.tensor("w").section("codes").offset;
  }
  c.reset();
  std::string bytes = readBytes(file("w.qpk"));
  bytes[offset] ^= 0x4;
  writeBytes(file("w.qpk"), bytes);
  c = openContainer(file("w.qpk"));
  ASSERT_TRUE(c);
  EXPECT_QET_ERROR(qet_container_section(c.get(), "w", "codes", &data, &size),
                   QET_ERROR_CHECKSUM,
                   "checksum mismatch in section 'codes' of tensor 'w'");
  EXPECT_EQ(qet_container_section(c.get(), "w", "scales", &data, &size), QET_OK);
}

TEST_F(CApiErrorTest, NamesSchemesAndInconsistentTensors) {
  std::vector<uint8_t> codes(100, 0x11), scales(20, 0x3c), floats(24, 0),
      high(2, 0xff);
  runtime::TensorData unknown{"mystery",
                              "turbo",
                              4,
                              5,
                              runtime::ElementType::F32,
                              {},
                              {{"codes", 8, 20, codes.data(), 20}}};
  runtime::TensorData shortScales{"w",
                                  "rtn",
                                  4,
                                  5,
                                  runtime::ElementType::F32,
                                  {{"bits", 8}, {"group", 5}, {"symmetric", 1}},
                                  {{"codes", 8, 20, codes.data(), 20},
                                   {"scales", 16, 3, scales.data(), 6}}};
  runtime::TensorData noGroup = shortScales;
  noGroup.name = "v";
  noGroup.params = {{"bits", 8}, {"symmetric", 1}};
  // Ks = 6 / 2 = 3 codewords, so 2-bit codes; the first is 3.
  runtime::TensorData badCode{"p",
                              "pq",
                              4,
                              2,
                              runtime::ElementType::F32,
                              {},
                              {{"codebooks", 32, 6, floats.data(), 24},
                               {"codes", 2, 8, high.data(), 2}}};
  writeRaw("raw.qpk", {unknown, shortScales, noGroup, badCode});
  ContainerHandle c = openContainer(file("raw.qpk"));
  ASSERT_TRUE(c);
  int64_t count = 0;
  EXPECT_QET_OK(qet_container_tensor_count(c.get(), &count));
  EXPECT_EQ(count, 4);
  qet_tensor_info info;
  EXPECT_QET_OK(qet_container_tensor_info(c.get(), 0, &info));
  EXPECT_STREQ(info.scheme, "turbo");
  qet_tensor *t = nullptr;
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "mystery", &t),
                   QET_ERROR_UNSUPPORTED, "scheme 'turbo'");
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "nope", &t), QET_ERROR_NOT_FOUND,
                   "no tensor 'nope' (has: mystery, w, v, p)");
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "w", &t), QET_ERROR_FORMAT,
                   "tensor 'w' (rtn): section 'scales' holds 3 fields of 16 "
                   "bits, expected 4");
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "v", &t), QET_ERROR_FORMAT,
                   "parameter 'group' is missing");
  EXPECT_QET_ERROR(qet_tensor_lookup(c.get(), "p", &t), QET_ERROR_FORMAT,
                   "section 'codes': code 3 at field 0 is not below Ks = 3");
  EXPECT_EQ(t, nullptr);
  EXPECT_QET_ERROR(qet_container_tensor_info(c.get(), 4, &info),
                   QET_ERROR_INVALID_ARGUMENT, "tensor index 4");
  const char *key = nullptr;
  int64_t value = 0;
  EXPECT_QET_OK(qet_container_tensor_param(c.get(), 1, 0, &key, &value));
  EXPECT_STREQ(key, "bits");
  EXPECT_EQ(value, 8);
  EXPECT_QET_ERROR(qet_container_tensor_param(c.get(), 1, 3, &key, &value),
                   QET_ERROR_INVALID_ARGUMENT, "has 3 parameters");
}

TEST_F(CApiErrorTest, BuffersAndArguments) {
  writeRtn();
  ContainerHandle c = openContainer(file("w.qpk"));
  TensorHandle t = lookupTensor(c.get(), "w");
  ASSERT_TRUE(t);
  std::vector<float> x(40, 1.0f), y(5), out(200);
  EXPECT_QET_ERROR(qet_tensor_matvec(nullptr, x.data(), 40, y.data(), 5),
                   QET_ERROR_NULL_POINTER, "'tensor'");
  EXPECT_QET_ERROR(qet_tensor_matvec(t.get(), nullptr, 40, y.data(), 5),
                   QET_ERROR_NULL_POINTER, "'x'");
  EXPECT_QET_ERROR(qet_tensor_matvec(t.get(), x.data(), 40, nullptr, 5),
                   QET_ERROR_NULL_POINTER, "'y'");
  EXPECT_QET_ERROR(qet_tensor_matvec(t.get(), x.data(), 39, y.data(), 5),
                   QET_ERROR_BUFFER_SIZE, "'x' holds 39 floats, 40 are needed");
  EXPECT_QET_ERROR(qet_tensor_matvec(t.get(), x.data(), 40, y.data(), 4),
                   QET_ERROR_BUFFER_SIZE, "'y' holds 4 floats, 5 are needed");
  EXPECT_QET_ERROR(qet_tensor_matvec(t.get(), x.data(), 40, x.data() + 3, 5),
                   QET_ERROR_INVALID_ARGUMENT, "'x' and 'y' overlap");
  EXPECT_QET_ERROR(qet_tensor_matmul(t.get(), x.data(), -1, 40, y.data(), 5),
                   QET_ERROR_INVALID_ARGUMENT, "'batch' is negative");
  EXPECT_QET_ERROR(qet_tensor_matmul(t.get(), x.data(), 2, 40, y.data(), 5),
                   QET_ERROR_BUFFER_SIZE, "'x' holds 40 floats, 80");
  EXPECT_QET_ERROR(qet_tensor_dequantize(t.get(), out.data(), 199),
                   QET_ERROR_BUFFER_SIZE, "'out' holds 199 floats, 200");
  // A longer buffer is fine, and a success clears the last message.
  EXPECT_QET_OK(qet_tensor_matvec(t.get(), x.data(), 40, out.data(), 200));
  EXPECT_STREQ(qet_last_error(), "");
  int64_t value = 0;
  EXPECT_QET_ERROR(qet_tensor_find_param(t.get(), "rank", &value),
                   QET_ERROR_NOT_FOUND, "no parameter 'rank'");
  EXPECT_QET_OK(qet_tensor_find_param(t.get(), "group", &value));
  EXPECT_EQ(value, 16);
  EXPECT_QET_ERROR(qet_set_threads(-2), QET_ERROR_INVALID_ARGUMENT,
                   "threads must be in [0, 4096]");
  EXPECT_QET_ERROR(qet_set_kernel(static_cast<qet_kernel>(7)),
                   QET_ERROR_INVALID_ARGUMENT, "unknown kernel 7");
  // Plain-pointer RTN: null storage and impossible widths.
  std::vector<uint8_t> codes(100);
  std::vector<uint16_t> scales(15);
  EXPECT_QET_ERROR(qet_rtn_matvec_f32(nullptr, scales.data(), nullptr, 5, 40, 4,
                                      16, x.data(), y.data()),
                   QET_ERROR_NULL_POINTER, "'codes'");
  EXPECT_QET_ERROR(qet_rtn_matvec_f32(codes.data(), scales.data(), nullptr, 5,
                                      40, 9, 16, x.data(), y.data()),
                   QET_ERROR_INVALID_ARGUMENT, "bits must be in [1, 8]");
  EXPECT_QET_ERROR(qet_rtn_matvec_f32(codes.data(), scales.data(), nullptr, -5,
                                      40, 4, 16, x.data(), y.data()),
                   QET_ERROR_INVALID_ARGUMENT, "'rows' is negative");
  EXPECT_STREQ(qet_status_name(QET_ERROR_CHECKSUM), "QET_ERROR_CHECKSUM");
  EXPECT_STREQ(qet_status_name(static_cast<qet_status>(99)), "unknown status");
}

TEST_F(CApiErrorTest, TensorsOutliveTheirContainerHandle) {
  quant::QuantizeResult r = writeRtn();
  ContainerHandle c = openContainer(file("w.qpk"));
  TensorHandle t = lookupTensor(c.get(), "w");
  ASSERT_TRUE(t);
  c.reset(); // the mapping stays while the tensor holds it
  qet_tensor_info info;
  EXPECT_QET_OK(qet_tensor_get_info(t.get(), &info));
  EXPECT_STREQ(info.name, "w");
  std::vector<float> dense(200);
  EXPECT_QET_OK(qet_tensor_dequantize(t.get(), dense.data(), dense.size()));
  EXPECT_EQ(dense, r.reconstruction.values);
  EXPECT_QET_OK(qet_container_close(nullptr));
  EXPECT_QET_OK(qet_tensor_release(nullptr));
}

} // namespace
