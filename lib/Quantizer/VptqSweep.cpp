//===- VptqSweep.cpp - VPTQ column sweep with error feedback --------------===//
//
// vptq.md §5. Every output row evolves on its own (feedback only moves error
// along a row, to later columns), so the sweep runs over fixed tiles of rows:
// each tile is a multiple of lcm(v, v_o) rows (whole vector-rows of both the
// main and the outlier parts; about 256 rows, more for large codebooks), and
// the tiles are split over threads. The
// tile boundaries do not depend on the thread count and each tile runs the
// same arithmetic (including the Eigen GEMM of the lazy update, whose shapes
// are fixed per tile), so the output is identical for any thread count.
//
// Pad rows (beyond M) are zero in every column and receive no feedback.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Vptq.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Parallel.h"

#include <Eigen/Core>

#include <algorithm>
#include <numeric>
#include <string>

namespace qet::quant {

namespace {
using RowMajorF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr size_t kTargetTileRows = 256;
} // namespace

VptqSweepResult vptqSweep(const Matrix &prepared, const std::vector<float> &u,
                          bool feedback, const VptqLayout &layout,
                          const VptqCodebooks &codebooks, bool useResidual,
                          unsigned block, unsigned threads) {
  const size_t M = layout.rows, N = layout.cols;
  if (prepared.rows != M || prepared.cols != N)
    throw Error("vptq sweep: the weight does not match the layout");
  if (u.size() != N * N)
    throw Error("vptq sweep: U must be N x N");
  if (block == 0)
    throw Error("vptq sweep: the block size must be at least 1");
  const unsigned v = layout.v, vo = layout.vo;
  const size_t k = layout.centroids(), kr = layout.residualCentroids(),
               ko = layout.outlierCentroids();
  const size_t G = layout.groups, gs = layout.groupSize, o = layout.outliers;
  const size_t R = layout.vectorRows(), Ro = layout.outlierVectorRows();
  useResidual = useResidual && layout.br > 0;
  if (codebooks.main.size() != G * k * v ||
      (useResidual && codebooks.residual.size() != G * kr * v) ||
      (o > 0 && codebooks.outlier.size() != ko * vo))
    throw Error("vptq sweep: codebook sizes do not match the layout");

  VptqSweepResult out;
  out.fields.assign(G * R * gs, 0);
  out.outlierFields.assign(Ro * o, 0);
  out.quantized = Matrix(M, N);
  out.residual = Matrix(M, N);

  size_t lcm = o > 0 ? std::lcm<size_t>(v, vo) : v;
  // The shared nearest-centroid kernel (KMeans.h `assign`) lays out its
  // centroid table on every call, so a call should carry enough vectors to
  // amortize it: tiles grow with the codebook (256 rows up to 32K codebook
  // floats, up to 2048 rows for k65536 v8). The size depends only on M, k, v.
  size_t tileTarget = std::min<size_t>(
      2048, kTargetTileRows * std::max<size_t>(1, k * v / 32768));
  size_t tileRows = lcm * ((tileTarget + lcm - 1) / lcm);
  size_t padded = (M + lcm - 1) / lcm * lcm;
  size_t tiles = (padded + tileRows - 1) / tileRows;
  Eigen::Map<const RowMajorF> U(u.data(), N, N);

  parallelFor(
      0, tiles, threads,
      [&](size_t tb, size_t te) {
        std::vector<float> segs, diffs;
        std::vector<uint32_t> labels, labels2;
        for (size_t tile = tb; tile < te; ++tile) {
          const size_t i0 = tile * tileRows;
          const size_t i1 = std::min(i0 + tileRows, padded);
          if (i0 >= M)
            continue;
          const size_t nr = std::min(i1, M) - i0;
          RowMajorF Wt(nr, N);
          for (size_t i = 0; i < nr; ++i)
            std::copy(prepared.row(i0 + i), prepared.row(i0 + i) + N,
                      Wt.row(i).data());
          RowMajorF Eb;
          for (size_t a = 0; a < N; a += block) {
            const size_t z = std::min<size_t>(a + block, N);
            if (feedback)
              Eb.setZero(nr, z - a);
            for (size_t p = a; p < z; ++p) {
              const bool outlier = p < o;
              const unsigned vv = outlier ? vo : v;
              const size_t g = outlier ? 0 : (p - o) / gs;
              const size_t c = outlier ? 0 : (p - o) % gs;
              const size_t rBegin = i0 / vv;
              const size_t rEnd = std::min(i1 / vv, outlier ? Ro : R);
              if (rEnd <= rBegin)
                continue;
              const size_t nvec = rEnd - rBegin;
              const float *C = outlier ? codebooks.outlier.data()
                                       : codebooks.main.data() + g * k * v;
              const size_t kc = outlier ? ko : k;
              segs.assign(nvec * vv, 0.0f);
              for (size_t j = 0; j < nvec; ++j)
                for (unsigned e = 0; e < vv; ++e) {
                  size_t row = (rBegin + j) * vv + e;
                  if (row < M)
                    segs[j * vv + e] = Wt(row - i0, p);
                }
              labels.resize(nvec);
              assign(PointsView{segs.data(), nvec, vv, vv}, C, kc,
                     labels.data(), 1);
              const bool res = useResidual && !outlier;
              const float *Cr =
                  res ? codebooks.residual.data() + g * kr * v : nullptr;
              if (res) {
                diffs.resize(nvec * vv);
                for (size_t j = 0; j < nvec; ++j)
                  for (unsigned e = 0; e < vv; ++e)
                    diffs[j * vv + e] =
                        segs[j * vv + e] - C[size_t(labels[j]) * vv + e];
                labels2.resize(nvec);
                assign(PointsView{diffs.data(), nvec, vv, vv}, Cr, kr,
                       labels2.data(), 1);
              }
              const float upp = U(p, p);
              for (size_t j = 0; j < nvec; ++j) {
                const size_t r = rBegin + j;
                const uint32_t i1v = labels[j], i2v = res ? labels2[j] : 0;
                if (outlier)
                  out.outlierFields[r * o + p] = i1v;
                else
                  out.fields[(g * R + r) * gs + c] = i1v | (i2v << layout.b);
                for (unsigned e = 0; e < vv; ++e) {
                  const size_t row = r * vv + e;
                  if (row >= M)
                    continue; // pad rows: never written, no feedback
                  float q = C[size_t(i1v) * vv + e];
                  if (res)
                    q += Cr[size_t(i2v) * vv + e];
                  const float target = Wt(row - i0, p);
                  const float err = target - q;
                  out.quantized.at(row, p) = q;
                  out.residual.at(row, p) = err;
                  if (feedback)
                    Eb(row - i0, p - a) = err / upp;
                }
              }
              if (feedback && p + 1 < z) {
                const size_t len = z - p - 1;
                for (size_t i = 0; i < nr; ++i) {
                  const float e = Eb(i, p - a);
                  if (e != 0.0f)
                    Wt.row(i).segment(p + 1, len) -=
                        e * U.row(p).segment(p + 1, len);
                }
              }
            }
            if (feedback && z < N)
              Wt.rightCols(N - z).noalias() -=
                  Eb * U.block(a, z, z - a, N - z);
          }
        }
      },
      1);
  return out;
}

} // namespace qet::quant
