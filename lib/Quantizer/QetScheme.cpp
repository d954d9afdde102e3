//===- QetScheme.cpp - The `hera` and `qet` schemes -----------------------===//
//
// Options left unset are searched jointly for the lowest training MSE under
// the budget, as PQ searches M (qem.md §4): M over autoSubspaceCandidates(d),
// the first stage's depth over qetDepthCandidates(d) (later stages keep
// depth 0, the reference's structure) and, for qet, the budget split over
// qetSplitCandidates(S). Candidates run in a fixed order (M ascending, depth
// ascending, split as listed) and a strict < keeps the earliest on ties.
// Candidates whose budget cannot hold them are skipped and counted; when all
// are, BudgetTooSmall names the cheapest one's minimum. A qet candidate
// whose solved (M, depths, codebook bits, Ks) equals an earlier one's would
// train the very same model (different splits often give the same Ks), so
// it is skipped too and counted as a duplicate.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qet.h"

#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Metrics.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace qet::quant {

std::vector<unsigned> qetDepthCandidates(size_t d) {
  std::vector<unsigned> depths;
  for (unsigned l = 0; l <= 3; ++l)
    if (d % (size_t{1} << l) == 0)
      depths.push_back(l);
  return depths;
}

std::vector<std::vector<double>> qetSplitCandidates(size_t stages) {
  if (stages <= 1)
    return {{1.0}};
  if (stages == 2)
    return {{0.3, 0.7}, {0.4, 0.6}, {0.5, 0.5}, {0.6, 0.4},
            {0.7, 0.3}, {0.8, 0.2}, {0.9, 0.1}};
  // More stages: geometric shares rate_s ~ rho^s, normalized to sum 1.
  std::vector<std::vector<double>> splits;
  for (double rho : {0.25, 0.5, 0.75}) {
    std::vector<double> rates(stages);
    double sum = 0.0, power = 1.0;
    for (size_t s = 0; s < stages; ++s, power *= rho)
      sum += (rates[s] = power);
    for (double &r : rates)
      r /= sum;
    splits.push_back(rates);
  }
  return splits;
}

namespace {

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

template <typename T, typename F>
std::string joinList(const std::vector<T> &items, F &&format) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? "," : "") + format(items[i]);
  return text;
}

std::string joinUnsigned(const std::vector<unsigned> &items) {
  return joinList(items, [](unsigned v) { return std::to_string(v); });
}

std::string shapeText(const Matrix &x) {
  return std::to_string(x.rows) + "x" + std::to_string(x.cols);
}

std::vector<size_t> subspaceCandidates(const std::string &scheme,
                                       const Matrix &input,
                                       const QuantizeOptions &options) {
  if (options.subspaces) {
    requireSubspacesDivide(scheme, input.cols, options.subspaces);
    return {options.subspaces};
  }
  return autoSubspaceCandidates(input.cols);
}

void checkInput(const std::string &scheme, const Matrix &input,
                const QuantizeOptions &options) {
  if (input.rows == 0 || input.cols == 0)
    throw Error(scheme + ": the input matrix is empty");
  requireFinite(input, scheme);
  if (!(options.bpe > 0) || !std::isfinite(options.bpe))
    throw Error(scheme + ": a positive --bpe budget is required");
}

/// One fitted configuration of the search.
struct Fitted {
  QuantizeResult result;
  double mse = 0.0;
};

struct SearchCounts {
  size_t fitted = 0, overBudget = 0, duplicates = 0;

  /// "12 (+3 over budget, +5 duplicates)".
  std::string text() const {
    std::string extra;
    if (overBudget)
      extra += "+" + std::to_string(overBudget) + " over budget";
    if (duplicates)
      extra += std::string(extra.empty() ? "" : ", ") + "+" +
               std::to_string(duplicates) + " duplicates";
    return std::to_string(fitted) + (extra.empty() ? "" : " (" + extra + ")");
  }
};

/// Runs `fit` on candidates 0..count-1 and keeps the lowest MSE. `fit`
/// returns nothing for a duplicate. A candidate that throws BudgetTooSmall
/// is skipped when others exist; with a single candidate the error
/// propagates. `minimum(i)` gives the candidate's smallest budget, for the
/// message when every candidate is skipped.
Fitted searchBest(const std::string &scheme, const Matrix &input,
                  const QuantizeOptions &options, size_t count,
                  const std::function<std::optional<QuantizeResult>(size_t)> &fit,
                  const std::function<uint64_t(size_t)> &minimum,
                  const std::function<std::string(size_t)> &describe,
                  SearchCounts &counts) {
  std::optional<Fitted> best;
  counts = {};
  for (size_t i = 0; i < count; ++i) {
    std::optional<QuantizeResult> result;
    bool overBudget = false;
    try {
      result = fit(i);
    } catch (const BudgetTooSmall &) {
      if (count == 1)
        throw;
      overBudget = true;
    }
    if (result) {
      ++counts.fitted;
      double mse = measureError(input, result->reconstruction).mse;
      if (!best || mse < best->mse)
        best = Fitted{std::move(*result), mse};
    } else {
      ++(overBudget ? counts.overBudget : counts.duplicates);
    }
    if (options.progress)
      options.progress(static_cast<double>(i + 1) / count);
  }
  if (best)
    return std::move(*best);
  size_t cheapest = 0;
  for (size_t i = 1; i < count; ++i)
    if (minimum(i) < minimum(cheapest))
      cheapest = i;
  uint64_t elements = uint64_t(input.rows) * input.cols;
  uint64_t budget = budgetBits(options.bpe, elements);
  uint64_t need = minimum(cheapest);
  throw BudgetTooSmall(
      scheme + ": a budget of " + std::to_string(budget) + " bits (" +
      formatBpe(double(budget) / elements) + " bpe) is too small for a " +
      shapeText(input) + " matrix: none of the " + std::to_string(count) +
      " configurations searched fits; the cheapest, " + describe(cheapest) +
      ", needs " + std::to_string(need) + " bits (" +
      formatBpe(double(need) / elements) + " bpe)");
}

std::string autoMark(bool searched) { return searched ? " (auto)" : ""; }

/// The search report shared by hera and qet: the M values tried (after the
/// chosen M, when M was searched), the candidate counts, iterations and seed.
void reportSearch(std::vector<std::pair<std::string, std::string>> &params,
                  const QuantizeOptions &options, const std::vector<size_t> &ms,
                  size_t candidates, const SearchCounts &counts) {
  if (!options.subspaces)
    params.insert(params.begin() + 1,
                  {"M tried", joinList(ms, [](size_t m) {
                     return std::to_string(m);
                   })});
  if (candidates > 1)
    params.push_back({"configs tried", counts.text()});
  params.push_back({"iterations", std::to_string(options.iterations)});
  params.push_back({"seed", std::to_string(options.seed)});
}

} // namespace

QuantizeResult quantizeHera(const Matrix &input, const QuantizeOptions &options) {
  checkInput("hera", input, options);
  // options.stages, split and codebookBits are qet's: hera (one stage, float
  // codebooks) ignores them, as pq ignores the depth, so one option set can
  // serve a comparison of several schemes.
  if (options.depths.size() > 1)
    throw Error("hera: one --depth value is expected, got " +
                joinUnsigned(options.depths));
  const uint64_t n = input.rows, d = input.cols;
  const unsigned cb = bitWidth(input.storage);
  const uint64_t budget = budgetBits(options.bpe, n * d);
  const uint64_t maxK = maxCodebookSize(n, options.maxCentroids);
  std::vector<size_t> ms = subspaceCandidates("hera", input, options);
  std::vector<unsigned> depths = options.depths;
  if (depths.empty())
    depths = qetDepthCandidates(d);
  else
    requireSwapDepth(d, depths[0]);
  struct Candidate {
    size_t m;
    unsigned depth;
  };
  std::vector<Candidate> candidates;
  for (size_t m : ms)
    for (unsigned l : depths)
      candidates.push_back({m, l});

  SearchCounts counts;
  Fitted best = searchBest(
      "hera", input, options, candidates.size(),
      [&](size_t i) {
        const Candidate &c = candidates[i];
        uint64_t ks = solveHeraCodebookSize(n, d, c.m, cb, c.depth, budget, maxK);
        QetModel model = trainHera(
            input,
            {c.m, static_cast<size_t>(ks), options.iterations, options.seed,
             options.threads},
            c.depth);
        QuantizeResult result;
        result.scheme = "hera";
        packQet(model, result.packed);
        result.reconstruction = decodeQet(result.packed, options.threads);
        result.params = {{"M", std::to_string(c.m)},
                         {"depth", std::to_string(c.depth)},
                         {"Ks", std::to_string(ks)}};
        return result;
      },
      [&](size_t i) {
        return heraBits(n, d, candidates[i].m, 1, cb, candidates[i].depth);
      },
      [&](size_t i) {
        return "M = " + std::to_string(candidates[i].m) +
               ", depth = " + std::to_string(candidates[i].depth);
      },
      counts);

  auto &params = best.result.params;
  params[0].second += autoMark(!options.subspaces);
  params[1].second += autoMark(options.depths.empty());
  reportSearch(params, options, ms, candidates.size(), counts);
  return std::move(best.result);
}

QuantizeResult quantizeQet(const Matrix &input, const QuantizeOptions &options) {
  checkInput("qet", input, options);
  const uint64_t n = input.rows, d = input.cols;
  const unsigned cb = bitWidth(input.storage);
  const uint64_t budget = budgetBits(options.bpe, n * d);
  const uint64_t maxK = maxCodebookSize(n, options.maxCentroids);

  // Stage count: explicit, else from a list, else the reference's 2.
  size_t stages = options.stages;
  for (size_t length : {options.depths.size(), options.split.size(),
                        options.codebookBits.size()})
    if (!stages && length)
      stages = length;
  if (!stages)
    stages = 2;
  auto checkLength = [&](size_t length, const char *flag) {
    if (length && length != stages)
      throw Error(std::string("qet: ") + flag + " needs one value per stage (" +
                  std::to_string(stages) + " stages), got " +
                  std::to_string(length));
  };
  checkLength(options.depths.size(), "--depth");
  checkLength(options.split.size(), "--split");
  checkLength(options.codebookBits.size(), "--codebook-bits");

  std::vector<size_t> ms = subspaceCandidates("qet", input, options);
  std::vector<std::vector<unsigned>> depthLists;
  if (!options.depths.empty()) {
    depthLists.push_back(options.depths);
  } else {
    for (unsigned l : qetDepthCandidates(d)) {
      std::vector<unsigned> list(stages, 0);
      list[0] = l;
      depthLists.push_back(list);
    }
  }
  std::vector<std::vector<double>> splits;
  if (!options.split.empty())
    splits.push_back(options.split);
  else
    splits = qetSplitCandidates(stages);
  std::vector<unsigned> codebookBits = options.codebookBits;
  if (codebookBits.empty())
    codebookBits.assign(stages, 10);

  struct Candidate {
    size_t m;
    std::vector<QetStageSpec> specs;
  };
  std::vector<Candidate> candidates;
  for (size_t m : ms)
    for (const std::vector<unsigned> &depthList : depthLists)
      for (const std::vector<double> &split : splits) {
        Candidate c{m, {}};
        for (size_t s = 0; s < stages; ++s)
          c.specs.push_back({depthList[s], split[s], codebookBits[s]});
        validateQetStages(d, c.specs); // bad user input fails here, at once
        candidates.push_back(std::move(c));
      }

  auto describe = [&](size_t i) {
    const Candidate &c = candidates[i];
    return "M = " + std::to_string(c.m) + ", depths (" +
           joinList(c.specs,
                    [](const QetStageSpec &s) { return std::to_string(s.depth); }) +
           "), split (" +
           joinList(c.specs, [](const QetStageSpec &s) { return number(s.rate); }) +
           ")";
  };
  SearchCounts counts;
  std::set<std::string> seen; // solved configurations already fitted
  Fitted best = searchBest(
      "qet", input, options, candidates.size(),
      [&](size_t i) -> std::optional<QuantizeResult> {
        const Candidate &c = candidates[i];
        QetBudgetPlan plan =
            solveQetBudget(n, d, c.m, cb, c.specs, budget, maxK);
        std::string key = std::to_string(c.m);
        for (size_t s = 0; s < stages; ++s)
          key += "|" + std::to_string(c.specs[s].depth) + "," +
                 std::to_string(c.specs[s].codebookBits) + "," +
                 std::to_string(plan.centroids[s]);
        if (!seen.insert(key).second)
          return std::optional<QuantizeResult>();
        QetConfig config;
        config.subspaces = c.m;
        config.iterations = options.iterations;
        config.seed = options.seed;
        config.threads = options.threads;
        for (size_t s = 0; s < stages; ++s)
          config.stages.push_back({c.specs[s].depth, c.specs[s].codebookBits,
                                   static_cast<size_t>(plan.centroids[s])});
        QetModel model = trainQet(input, config);
        QuantizeResult result;
        result.scheme = "qet";
        packQet(model, result.packed);
        result.reconstruction = decodeQet(result.packed, options.threads);
        result.params = {
            {"M", std::to_string(c.m)},
            {"stages", std::to_string(stages)},
            {"depth", joinList(c.specs,
                               [](const QetStageSpec &s) {
                                 return std::to_string(s.depth);
                               })},
            {"split", joinList(c.specs,
                               [](const QetStageSpec &s) {
                                 return number(s.rate);
                               })},
            {"codebook bits", joinUnsigned(codebookBits)},
            {"Ks", joinList(plan.centroids,
                            [](uint64_t k) { return std::to_string(k); })},
            {"stage mse", joinList(model.stageMse, [](double v) {
               char buffer[32];
               std::snprintf(buffer, sizeof buffer, "%.4g", v);
               return std::string(buffer);
             })}};
        return result;
      },
      [&](size_t i) {
        return qetMinimumBudgetBits(n, d, candidates[i].m, cb,
                                    candidates[i].specs);
      },
      describe, counts);

  auto &params = best.result.params;
  params[0].second += autoMark(!options.subspaces);
  params[2].second += autoMark(options.depths.empty());
  params[3].second += autoMark(options.split.empty());
  reportSearch(params, options, ms, candidates.size(), counts);
  return std::move(best.result);
}

} // namespace qet::quant
