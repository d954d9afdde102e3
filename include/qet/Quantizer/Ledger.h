//===- Ledger.h - Exact storage accounting ---------------------*- C++ -*-===//
//
// The QEM rule: every stored bit needed to decode counts. A ledger lists each
// component (codes, scales, codebooks, rotations, labels, ...) with its count
// and width; bits per element = total bits / (n * d). Shapes and
// hyper-parameters, headers and stream padding are not charged (qem.md §2).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_LEDGER_H
#define QET_QUANTIZER_LEDGER_H

#include <cstdint>
#include <string>
#include <vector>

namespace qet::quant {

struct LedgerEntry {
  std::string component;
  uint64_t count = 0;
  unsigned bitsEach = 0;
  uint64_t bits() const { return count * bitsEach; }
};

class Ledger {
public:
  Ledger &add(std::string component, uint64_t count, unsigned bitsEach);
  uint64_t totalBits() const;
  double bitsPerElement(uint64_t elements) const;
  const std::vector<LedgerEntry> &entries() const { return items; }
  /// "codes 4096x4 @ 9b + codebooks ..." style one-line summary.
  std::string describe() const;

private:
  std::vector<LedgerEntry> items;
};

/// Bits available for a bits-per-element target: floor(bpe * elements).
uint64_t budgetBits(double bpe, uint64_t elements);

/// A bits-per-element value for messages: four decimals ("4.2500").
std::string formatBpe(double bpe);

} // namespace qet::quant

#endif // QET_QUANTIZER_LEDGER_H
