//===- Ledger.cpp - Exact storage accounting ------------------------------===//

#include "qet/Quantizer/Ledger.h"

#include "qet/Quantizer/Error.h"

#include <cmath>
#include <cstdio>

namespace qet::quant {

Ledger &Ledger::add(std::string component, uint64_t count, unsigned bitsEach) {
  items.push_back({std::move(component), count, bitsEach});
  return *this;
}

uint64_t Ledger::totalBits() const {
  uint64_t total = 0;
  for (const LedgerEntry &entry : items)
    total += entry.bits();
  return total;
}

double Ledger::bitsPerElement(uint64_t elements) const {
  return elements ? static_cast<double>(totalBits()) / elements : 0.0;
}

std::string Ledger::describe() const {
  std::string text;
  for (const LedgerEntry &entry : items) {
    if (!text.empty())
      text += " + ";
    text += entry.component + " " + std::to_string(entry.count) + "x" +
            std::to_string(entry.bitsEach) + "b";
  }
  return text;
}

uint64_t budgetBits(double bpe, uint64_t elements) {
  if (!(bpe > 0) || !std::isfinite(bpe))
    throw Error("bits-per-element budget must be a positive number, got " +
                std::to_string(bpe));
  return static_cast<uint64_t>(
      std::floor(bpe * static_cast<double>(elements)));
}

std::string formatBpe(double bpe) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4f", bpe);
  return text;
}

} // namespace qet::quant
