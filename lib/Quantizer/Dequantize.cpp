//===- Dequantize.cpp - Decode any packed matrix by its scheme ------------===//

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Qet.h"
#include "qet/Quantizer/Qjl.h"
#include "qet/Quantizer/Rtn.h"
#include "qet/Quantizer/Vptq.h"
#include "qet/Quantizer/Scheme.h"

namespace qet::quant {

namespace {
struct DecoderEntry {
  const char *scheme;
  Matrix (*decode)(const PackedMatrix &);
};

Matrix decodeRtn(const PackedMatrix &packed) {
  return rtnDecode(rtnUnpack(packed));
}
Matrix decodePqPacked(const PackedMatrix &packed) { return decodePq(packed); }
Matrix decodeOpqPacked(const PackedMatrix &packed) { return decodeOpq(packed); }
Matrix decodeLopqPacked(const PackedMatrix &packed) {
  return decodeLopq(packed);
}
Matrix decodeQetPacked(const PackedMatrix &packed) { return decodeQet(packed); }
Matrix decodeVptq(const PackedMatrix &packed) {
  return vptqDecode(vptqUnpack(packed));
}

const DecoderEntry kDecoders[] = {
    {"rtn", decodeRtn},         {"rtn-sym", decodeRtn},
    {"pq", decodePqPacked},     {"opq", decodeOpqPacked},
    {"lopq", decodeLopqPacked}, {"hera", decodeQetPacked},
    {"qet", decodeQetPacked},   {"qjl", qjlDecodeImpliedKeys},
    {"vptq", decodeVptq},
};
} // namespace

Matrix dequantize(const PackedMatrix &packed) {
  for (const DecoderEntry &entry : kDecoders)
    if (packed.scheme == entry.scheme)
      return entry.decode(packed);
  throw FormatError("cannot decode a packed matrix of unknown scheme '" +
                    packed.scheme + "'");
}

} // namespace qet::quant
