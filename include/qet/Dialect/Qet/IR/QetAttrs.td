//===- QetAttrs.td - Scheme attributes of the qet dialect --*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETATTRS_TD
#define QET_DIALECT_QET_IR_QETATTRS_TD

include "qet/Dialect/Qet/IR/QetDialect.td"
include "qet/Dialect/Qet/IR/QetInterfaces.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

class Qet_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qet_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class Qet_SchemeAttr<string name, string attrMnemonic>
    : Qet_Attr<name, attrMnemonic,
               [DeclareAttrInterfaceMethods<Qet_SchemeAttrInterface>]>;

def Qet_RtnAttr : Qet_SchemeAttr<"Rtn", "rtn"> {
  let summary = "Group-wise round-to-nearest scalar quantization";
  let description = [{
    Each row (the last dimension) is cut into groups of `group` consecutive
    elements; the last group may be shorter. Every element is stored as a
    `bits`-wide code, every group as an fp16 scale plus, unless `symmetric`,
    an fp16 minimum (the zero point):

    * asymmetric: `x' = min + q * scale`, `q` in `[0, 2^bits - 1]`;
    * symmetric:  `x' = q * scale`, `q` in `[-2^(bits-1), 2^(bits-1) - 1]`.

    Exact storage: `bits` per element plus 32 (asymmetric) or 16 (symmetric)
    bits per group.

    ```mlir
    #qet.rtn<bits = 4, group = 128, symmetric = false>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "uint64_t":$group, "bool":$symmetric);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of groups in a row of `rowLength` elements: ceil(rowLength / group).
    int64_t getNumGroups(int64_t rowLength) const;
    /// Smallest and largest code value.
    int64_t getMinCode() const;
    int64_t getMaxCode() const;
    /// Exact stored bits for a rows x rowLength matrix (codes + fp16 metadata).
    uint64_t getStorageBits(int64_t rows, int64_t rowLength) const;
  }];
}

def Qet_PqAttr : Qet_SchemeAttr<"Pq", "pq"> {
  let summary = "Product quantization (PQ) and optimized PQ (OPQ)";
  let description = [{
    Each row is cut into `subspaces` (M) equal sub-vectors; each sub-vector
    is stored as the index of its nearest codeword in a per-subspace
    codebook of `centroids` (Ks) float codewords (the matrix element type).
    With `rotated`, rows were multiplied by a learned orthogonal d x d
    rotation R before encoding (OPQ) and decode multiplies by R^T.

    Components: [`rotation` (d*d floats),] `codebooks` (Ks*d floats,
    subspace-major), `codes` (n*M fields of ceil(log2 Ks) bits).

    ```mlir
    #qet.pq<subspaces = 8, centroids = 256, rotated = false>
    ```
  }];
  let parameters = (ins "uint64_t":$subspaces, "uint64_t":$centroids,
                        "bool":$rotated);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qet_LopqAttr : Qet_SchemeAttr<"Lopq", "lopq"> {
  let summary = "Locally optimized product quantization (LOPQ)";
  let description = [{
    Rows are partitioned into clusters (stored as one label per row); each
    non-empty cluster c holds its own OPQ model with `cluster_centroids[c]`
    codewords per subspace over its `cluster_rows[c]` rows. Empty clusters
    have 0 rows and 0 centroids and store nothing.

    Components: `labels` (n fields of ceil(log2 L) bits), then per
    non-empty cluster `cC.rotation`, `cC.codebooks`, `cC.codes`.

    ```mlir
    #qet.lopq<subspaces = 8, cluster_rows = [60, 4],
              cluster_centroids = [60, 4]>
    ```
  }];
  let parameters = (ins "uint64_t":$subspaces,
                        "::mlir::DenseI64ArrayAttr":$cluster_rows,
                        "::mlir::DenseI64ArrayAttr":$cluster_centroids);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qet_HeraAttr : Qet_SchemeAttr<"Hera", "hera"> {
  let summary = "HERA: a swap tree of `depth` layers, then PQ";
  let description = [{
    Every row goes through the min/max swap tree of `depth` layers (qet.md
    §1; `depth` * d / 2 swap bits per row), and the swapped rows are
    product-quantized with `subspaces` codebooks of `centroids` float
    codewords.

    Components: `codebooks`, `codes`, and `swap_bits` when depth > 0.

    ```mlir
    #qet.hera<subspaces = 4, centroids = 256, depth = 3>
    ```
  }];
  let parameters = (ins "uint64_t":$subspaces, "uint64_t":$centroids,
                        "unsigned":$depth);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qet_QetSchemeAttr : Qet_SchemeAttr<"QetScheme", "qet"> {
  let summary = "QET: residual stages of swap tree + PQ with quantized codebooks";
  let description = [{
    Stage i encodes the residual left by stages 0..i-1 with a swap tree of
    `depths[i]` layers and PQ over `subspaces` subspaces with
    `centroids[i]` codewords, whose codebook is stored as
    `codebook_bits[i]`-bit levels on a uniform grid (0 = float codebook).
    The decoded matrix is the sum of the stages' decoded matrices.

    Components per stage i (prefix `si.`): `codebooks` (float) or
    `codebook_levels`, `codebook_lo`, `codebook_step`; then `codes`, and
    `swap_bits` when the depth is positive.

    ```mlir
    #qet.qet<subspaces = 4, depths = [3, 0],
             centroids = [256, 64], codebook_bits = [10, 10]>
    ```
  }];
  let parameters = (ins "uint64_t":$subspaces,
                        "::mlir::DenseI64ArrayAttr":$depths,
                        "::mlir::DenseI64ArrayAttr":$centroids,
                        "::mlir::DenseI64ArrayAttr":$codebook_bits);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qet_VqAttr : Qet_SchemeAttr<"Vq", "vq"> {
  let summary = "VPTQ: vector quantization of weight columns (vptq.md)";
  let description = [{
    The columns of an M x N weight are split into `outlier_columns` outlier
    columns and `groups` groups of `group_size` columns. Each column is cut
    into vectors of `vector` consecutive rows, each stored as a
    `index_bits`-bit index into its group's fp16 codebook plus, when
    `residual_bits` > 0, an index into a residual codebook. Outlier columns
    use their own codebook (`outlier_vector`, `outlier_bits`). `permuted`
    stores the column order (act-order); `normalized` stores an fp16 scale
    and bias per column.

    ```mlir
    #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1,
            group_size = 512, outlier_columns = 0, outlier_vector = 0,
            outlier_bits = 0, permuted = false, normalized = false>
    ```
  }];
  let parameters = (ins "unsigned":$vector, "unsigned":$index_bits,
                        "unsigned":$residual_bits, "unsigned":$groups,
                        "uint64_t":$group_size, "uint64_t":$outlier_columns,
                        "unsigned":$outlier_vector, "unsigned":$outlier_bits,
                        "bool":$permuted, "bool":$normalized);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Qet_QjlAttr : Qet_SchemeAttr<"Qjl", "qjl"> {
  let summary = "QJL: 1-bit Johnson-Lindenstrauss sign sketches of keys";
  let description = [{
    Each key (row) k is stored as the signs of S k for a `sketch` x d JL
    matrix S (regenerated from `seed`; block-orthogonal when `orthogonal`)
    plus its fp16 norm. With `outliers` > 0, every group of `group_tokens`
    tokens keeps that many outlier channels, sketched separately with
    `outlier_sketch` rows (qjl.md).

    Components: `signs`, `norms`, and with outliers `outlier_signs`,
    `outlier_norms`, `outlier_ids`.

    ```mlir
    #qet.qjl<sketch = 256, outlier_sketch = 0, outliers = 0,
             group_tokens = 32, orthogonal = true, seed = 123>
    ```
  }];
  let parameters = (ins "unsigned":$sketch, "unsigned":$outlier_sketch,
                        "unsigned":$outliers, "unsigned":$group_tokens,
                        "bool":$orthogonal, "uint64_t":$seed);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QET_DIALECT_QET_IR_QETATTRS_TD
