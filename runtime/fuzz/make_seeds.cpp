//===- make_seeds.cpp - Seed corpus for the container fuzzer --------------===//
//
// Writes a few valid containers (empty, one tensor, several tensors with
// zero-width and float sections) into the folder given on the command line.
//
//===----------------------------------------------------------------------===//

#include "qet/runtime/Container.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace qet::runtime;

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds FOLDER\n");
    return 2;
  }
  std::string folder = argv[1];
  std::vector<uint8_t> codes(75), floats(64);
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<uint8_t>(i * 13 + 7);
  for (size_t i = 0; i < floats.size(); ++i)
    floats[i] = static_cast<uint8_t>(255 - i);
  TensorData rtn{"w0", "rtn", 10, 10, ElementType::F16,
                 {{"bits", 6}, {"group", 10}, {"symmetric", 0}},
                 {{"codes", 6, 100, codes.data(), codes.size()},
                  {"scales", 16, 10, floats.data(), 20},
                  {"zero_points", 16, 10, floats.data() + 20, 20}}};
  TensorData pq{"w1", "pq", 4, 8, ElementType::F32, {},
                {{"codes", 0, 8, nullptr, 0},
                 {"codebooks", 32, 8, floats.data(), 32}}};
  try {
    writeContainer(folder + "/empty.qpk", {}, true);
    writeContainer(folder + "/one.qpk", {rtn}, true);
    writeContainer(folder + "/two.qpk", {rtn, pq}, true);
  } catch (const ContainerError &e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
