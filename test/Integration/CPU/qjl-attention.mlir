// qet.qjl_attention (fused by qet-fuse-dequant from softmax(scale q K^T) V
// over a packed #qet.qjl key matrix) and qet.qmatmul of the same keys (the
// estimated scores) through both CPU backends: generated sign-select loops
// (backend=scf) and the runtime's QJL kernels (backend=runtime, keys held
// by the module or externalized to a .qpk container). Each result is
// compared with a reference in the same module that decodes the keys'
// implied keys k_hat = n / (m kappa) S^T sigma (outlier channels: n_O /
// (m_o kappa) S[:m_o]^T sigma') with linalg ops straight from the stored
// sign bits, fp16 norms and outlier ids, then multiplies densely and takes
// a max/exp/sum/div softmax.
//
// Keys: 12 tokens x d = 16, m = 24 (a partial second orthogonal block),
// |O| = 2 outlier channels per group of G = 5 tokens (3 groups, the last
// one short), m_o = 8, seed 11; 5 query rows (a block of 4 and one more),
// 12 fp16 value columns (one vector of 8 and a masked tail of 4), scale
// 0.25. The key bytes, S^T and 1 / (m kappa), 1 / (m_o kappa) were printed
// by the quantizer library (qjlQuantizeKeys, qjlPackKeys, makeJlMatrix on
// normal keys with large channels 3 and 9, Rng(2024)).
//
// DEFINE: %{backend} = scf
// DEFINE: %{extra} =
// DEFINE: %{check} = qet-opt %s %{extra} --qet-cpu-pipeline=backend=%{backend} \
// DEFINE:   2>/dev/null \
// DEFINE: | mlir-runner -e main -entry-point-result=void \
// DEFINE:   -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils,%qet_runtime \
// DEFINE: | FileCheck %s
//
// RUN: rm -rf %t && mkdir -p %t && cd %t
// The chain is fused (else both sides would use the decoded keys):
// RUN: qet-opt %s --qet-fuse-dequant | FileCheck %s --check-prefix=FUSED
// FUSED-COUNT-1: qet.qjl_attention
// FUSED-NOT: qet.qjl_attention
// FUSED-NOT: linalg.softmax
// RUN: %{check}
// REDEFINE: %{backend} = runtime
// RUN: %{check}
// REDEFINE: %{extra} = --qet-externalize="file=k.qpk replace=true"
// RUN: %{check}
// REDEFINE: %{backend} = scf
// RUN: %{check}

// Attention, then scores: max |difference| / max |reference| and 1 when it
// is at most 1e-5. The two sides round differently (k_hat is rounded per
// element, then dotted with q; the kernel sums sign-selected entries of
// S q), which moves the logits by about 1e-7 relative; a wrong sign
// convention, norm, outlier set or kappa is off by O(1).
// CHECK: {{[0-9.e+-]+}}
// CHECK-NEXT: 1
// CHECK-NEXT: {{[0-9.e+-]+}}
// CHECK-NEXT: 1

!keys = !qet.packed<12x16xf16, #qet.qjl<sketch = 24, outlier_sketch = 8, outliers = 2, group_tokens = 5, orthogonal = true, seed = 11>>

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#scalar = affine_map<(i, j) -> ()>
#lhs = affine_map<(i, j, k) -> (i, k)>
#rhs_t = affine_map<(i, j, k) -> (j, k)>
#rhs = affine_map<(i, j, k) -> (k, j)>
#out = affine_map<(i, j, k) -> (i, j)>

func.func @report(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %diff, %scale = linalg.generic {indexing_maps = [#id, #id, #scalar, #scalar], iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%init, %init : tensor<f32>, tensor<f32>) {
  ^bb0(%av: f32, %bv: f32, %d: f32, %s: f32):
    %delta = arith.subf %av, %bv : f32
    %abs = math.absf %delta : f32
    %dmax = arith.maximumf %d, %abs : f32
    %mag = math.absf %bv : f32
    %smax = arith.maximumf %s, %mag : f32
    linalg.yield %dmax, %smax : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %d = tensor.extract %diff[] : tensor<f32>
  %s = tensor.extract %scale[] : tensor<f32>
  %ratio = arith.divf %d, %s : f32
  %tol = arith.constant 1.0e-5 : f32
  %ok = arith.cmpf ole, %ratio, %tol : f32
  vector.print %ratio : f32
  vector.print %ok : i1
  return
}


// The fp16 at element %i of little-endian fp16 bytes %bytes, as f32.
func.func @half(%bytes: tensor<24xi8>, %i: index) -> f32 {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : i16
  %at = arith.muli %i, %c2 : index
  %at1 = arith.addi %at, %c1 : index
  %lo8 = tensor.extract %bytes[%at] : tensor<24xi8>
  %hi8 = tensor.extract %bytes[%at1] : tensor<24xi8>
  %lo = arith.extui %lo8 : i8 to i16
  %hi = arith.extui %hi8 : i8 to i16
  %his = arith.shli %hi, %c8 : i16
  %bits = arith.ori %lo, %his : i16
  %h = arith.bitcast %bits : i16 to f16
  %f = arith.extf %h : f16 to f32
  return %f : f32
}

// sum_{j < rows} sigma_j S[j, c] for token %t's sign row of %bytesPerRow bytes.
func.func @signed_sum(%bits: tensor<?xi8>, %t: index, %bytesPerRow: index, %rows: index, %st: tensor<16x24xf32>, %c: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1 : i8
  %zero = arith.constant 0.0 : f32
  %base = arith.muli %t, %bytesPerRow : index
  %sum = scf.for %j = %c0 to %rows step %c1 iter_args(%acc = %zero) -> (f32) {
    %b = arith.divui %j, %c8 : index
    %l = arith.remui %j, %c8 : index
    %at = arith.addi %base, %b : index
    %byte = tensor.extract %bits[%at] : tensor<?xi8>
    %shift = arith.index_cast %l : index to i8
    %shifted = arith.shrui %byte, %shift : i8
    %bit = arith.andi %shifted, %one : i8
    %set = arith.cmpi eq, %bit, %one : i8
    %s = tensor.extract %st[%c, %j] : tensor<16x24xf32>
    %neg = arith.negf %s : f32
    %term = arith.select %set, %s, %neg : f32
    %next = arith.addf %acc, %term : f32
    scf.yield %next : f32
  }
  return %sum : f32
}

// k_hat (12 x 16) decoded with linalg from the stored components.
func.func @implied_keys(%signs: tensor<36xi8>, %norms: tensor<24xi8>, %osigns: tensor<12xi8>, %onorms: tensor<24xi8>, %ids: tensor<6xi8>) -> tensor<12x16xf32> {
  %st = arith.constant dense<"0xE9F8A53F4404C43F380BBEBE92E9DA3E68ABAEBFE4BD843F8C14343F3D5E08C00B85293FD72A26BFA32A0EBE6A091A3F2174B1BE3C63C7BEE1788BBE9A31B93F262BAB3F91AE12C0D574433F8E57703F919C583F9C0C9B3E09B19E3F3961593F9CA74A3FA065823F0022B93EEC31173F6DD913BD71438ABF475875BF465E98BE7BB521BFEA1239BE388A2240B933BD3FD7D72F3EA34B02BF22E5773F64CD96BF329B0BBF5DC8123FB4D768BF2896E1BE996D8B3F055CCDBCE7ACD4BF73AAC43F92A4B0BFDA611440CE425B3F28A390BF06AA0D3FD7D0133F473736BF10E23F3FC6A9C13F756C70BF9CDAFB3E84A86FBE233AB53D8965993F3914B83DDA5E923ED364C9BF6644C2BF45B1C2BF65F34BBF6603A7BCCBAE10BF9363EF3EC2739E3F5F45023F6610A5BEAD390D3FBDF64ABFD2ED29BFC0E60840BCAE14BFC6B9883F769F7DBF3B2DC5BFD0428CBEE1DE403F7C2875BFFE9A6CBF481769BF7585A2BF0F1C2E3FD2E3C73F4607A2BF5DEAAB3DF0D054BF98BD253F4EBC103FA81D0B3F7EBC2DBF38009FBF8A4F0D40CB3569BFF85685BF646B2F3ED56E49BF755D1EBF989A683F7B7F4F3FBB41C73EC8AEEC3E53ADA83FD1DEAEBF01010BBEBA14573F45DB8CBFDC57EFBDB201CF3FD02BB9BD6C66163E6C33563F9DB0ACBF46CD06BF0E8FE93FBAAEC7BFD0D3343DA7D40F3F686F3EBF287334BEAE2D3EBF18D28F3F5F22E53F390D38BFA1CB2C3F74ADA13D1BBEA0BE0979DA3F5FAB11BD55C4113F8AF527403E8EDB3D92212CBF917424BF859DC2BE58BDB4BF2D6D2FBF6F7722BFA1CE813FB15F743F1884A8BF49983BBFEA8C3ABCF34350BEC07F9C3EAD4DC43F8823C33F95D2CA3FD7E93A3E20D3F83D114DA43E20B0D6BF8A0C94BF40B8D0BEECE930BFB9AC9F3FA435B73FBE748B3F4C0306BC8315A8BF1FDE383F92063D3DB052DDBC729697BE0860A3BF3D3C4ABFD0F3BEBD57FEFB3F5C995EBF97314ABF304A28BFB91DE03FF7E16F3FA7B3913E563D7B3F9062D63F6F7F8DBEBEAB9BBEBB6DDF3EAF45E3BEFFD3B53E44D5583F488A5FBFA77DB43F083E98BF07F3993F433FE13D8C0D8FBD9935643EB437B5BEB40F60BFF8DF763F31E8C23F11E7C03E2C8B5A3FF38E163FBA8FE3BE6AE3F03D14A7A9BDBE8E2E3D56453E401EB69DBFBFED2B3E47C90D3F0F0B2F3FB5C403BF9BCF3D40A2823ABF5E4979BCC468173E4C4D553F81688DBE39BA56BF2F165BBF49940A3F30F6003F9BC9F5BE0CEC30BDEE68C8BEFEE79FBFA738853F171A1BC03686813F9EB598BFC784923FFE0C443F8C4CCF3EC897B83F9051A13F73EA06BF1CA40ABF2DCAD73D25AFEC3E7BBBA13FC5A18BBF5DA2A73E306D03BF556C2240F3317DBFDCF9593FCE1DBD3DACA89D3F83F7C2BD3DD30DBFFECFA83C0D70AE3DED350540FEF78FBE822502BEB9270B3E1299A13EA51082BF2E94E13F59E299BF5808A3BFE17E6FBFEC12D5BEF01D2A3F29B2DF3FEB829D3F338AA23F0B400A3F595C5C3EE52AA23D27BDD4BFD215033F02C660BF05A2883F674DEDBF2221FEBE22F00E3FE43C803E6FE0263F1CC1743E46B597BF82334F3E55F9BEBC27BC323EC3EC82BF785455BF0FEDCA3FB5C7443E6C22E33E25A27FBE49C4AFBE49BF46BEA759243F5418DFBE16B9D8BECD9EC2BFC7E99F3FE5CC96BF9A0C9FBFD01D0D3EF0D7DA3F20540D3E5E43ECBE9B960CC0171914BF434104BFF5DE533D17DDECBF9A4CDABEB0AA89BEA95DD1BE455FEFBF955A673E4BC715BF437A19BB1F5C373FE2423A405315A33F38A2213D75191F3DBA24273F207258BD72AAE1BD5813D13F27EDC33BBAE52DBF6A27263F8256803F16B380BDA9D778BC88F16A3D6A9657BE815303BF87E3EEBF89E98DBF43C0CB3F8364253FE5B6CB3D950E5BBEA682D9BFD9171FBE35EA5EBF8B2F9F3FEF70663F984697BF6AD553BFD725DEBEA768CD3F9C45DE3F4CFB363F6CDA023EC400873FB0C1AF3E8A42573EB076C73D5856D8BFAC15053F0681183E1625C93F44921F3FBADB85BFBC6359BE03EBF4BF4277F4BEA40F5EBFE7C81EBFBB600AC05A19EA3C0E0C7A3EFA91ABBEA31C8EBF04FC863F3B1124BFE8D015BF9C8A9B3F6F77243F7698743E9230B63E01F8003F4F53F3BF259388BDF164E03FAB37D43EE7D42A3F"> : tensor<16x24xf32>
  %inv_in = arith.constant 0.0514123254 : f32
  %inv_out = arith.constant 0.154236972 : f32
  %signs_d = tensor.cast %signs : tensor<36xi8> to tensor<?xi8>
  %osigns_d = tensor.cast %osigns : tensor<12xi8> to tensor<?xi8>
  %e = tensor.empty() : tensor<12x16xf32>
  %khat = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%e : tensor<12x16xf32>) {
  ^bb0(%unused: f32):
    %t = linalg.index 0 : index
    %c = linalg.index 1 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c8 = arith.constant 8 : index
    %c24 = arith.constant 24 : index
    %g = arith.divui %t, %c5 : index
    %first = arith.muli %g, %c2 : index
    %second = arith.addi %first, %c1 : index
    %id0_8 = tensor.extract %ids[%first] : tensor<6xi8>
    %id1_8 = tensor.extract %ids[%second] : tensor<6xi8>
    %id0_u = arith.extui %id0_8 : i8 to i64
    %id1_u = arith.extui %id1_8 : i8 to i64
    %id0 = arith.index_cast %id0_u : i64 to index
    %id1 = arith.index_cast %id1_u : i64 to index
    %is0 = arith.cmpi eq, %c, %id0 : index
    %is1 = arith.cmpi eq, %c, %id1 : index
    %outlier = arith.ori %is0, %is1 : i1
    %in_sum = func.call @signed_sum(%signs_d, %t, %c3, %c24, %st, %c) : (tensor<?xi8>, index, index, index, tensor<16x24xf32>, index) -> f32
    %out_sum = func.call @signed_sum(%osigns_d, %t, %c1, %c8, %st, %c) : (tensor<?xi8>, index, index, index, tensor<16x24xf32>, index) -> f32
    %n_in = func.call @half(%norms, %t) : (tensor<24xi8>, index) -> f32
    %n_out = func.call @half(%onorms, %t) : (tensor<24xi8>, index) -> f32
    %coef_in = arith.mulf %n_in, %inv_in : f32
    %coef_out = arith.mulf %n_out, %inv_out : f32
    %v_in = arith.mulf %coef_in, %in_sum : f32
    %v_out = arith.mulf %coef_out, %out_sum : f32
    %v = arith.select %outlier, %v_out, %v_in : f32
    linalg.yield %v : f32
  } -> tensor<12x16xf32>
  return %khat : tensor<12x16xf32>
}

// q k_hat^T (5 x 12) as a generic contraction.
func.func @dense_scores(%q: tensor<5x16xf32>, %khat: tensor<12x16xf32>) -> tensor<5x12xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x12xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<5x12xf32>) -> tensor<5x12xf32>
  %s = linalg.generic {indexing_maps = [#lhs, #rhs_t, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %khat : tensor<5x16xf32>, tensor<12x16xf32>) outs(%z : tensor<5x12xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<5x12xf32>
  return %s : tensor<5x12xf32>
}

func.func @queries() -> tensor<5x16xf32> {
  %q = arith.constant dense<"0x35DA29C0EBAB423FED3F283E76DA583FCB5FE93EBB85F33FDB4DC53FD41A8BBF6C87043F8D359DBED7BD843D04C0683F50D7423FA87926BF235685BE7A839ABE8D25B13F99F493BF02ABF03B9C53264072567ABF2E3FB73F183B02BE576C153D2B45023F0812A13F0CD2BF3F74239BBF3F50BA3F5650DD3D6889C7BF889C463F09516A3FA77C203E57D68ABF1396F8BED944AE3FF8136C3FEBC4493FE1CF073F146D883F4B8BA93E817B6BBF87F963BF953F093F263AB23DA5C60C3E48F6AC3EAFB991BFA9A9233F0137003F073B84BFD9236A3FF7C3E5BED00F403FB4B8E33E44D0FFBEEE609E3F9FBDF7BD1B1467BF982E143F9249A9BFAC2C3DBEB64AB13E15E6AA3EE1F5BE3EEC9621BF1A6CC9BF38FC364078483EBF70604A3F6FE40E3F9AFF02BF0DE4A2BF95C8A63F19BAD9BE62D4E5BE24FC0F3FF5FB6BBC28C215BE"> : tensor<5x16xf32>
  return %q : tensor<5x16xf32>
}

func.func @values() -> tensor<12x12xf16> {
  %v = arith.constant dense<"0xFE30D4394F35A63B18A82B3B64ADA6BCCA3A1F3101313030A540B9B564B620BE9CC09B3A4FB9A6303230A040C1BCB318ADB86BC0FCBE273DB72927B03838CB3B8E3B7339ADB0FC3DDCB9F7305939453CD5330A353E3E01BD37BAC8BD8028DC34DAB5C6BA37C109B71E3C88BA41B5BEB8B5A900B685B8643CEE3551B7D934263203B6D73FA8B8B83E863848BE63BB863C7EBD0C0044B655B810B237340E3F5DBD0836523899B8B0BDA3B64A151A3B41BC633DC9BDF1B899B862340A3DB337DB328F2E793C869C27A545BE5EB61334B3BC41BEF0BBCB3D773E38B85F3A56B380BC933CF23D933629B8CBBED0B16D3E0C3CC1BE9E400CBA7D2D3739D838B8BC8CB6AFBA5A39A53903B13FBC5C2F40BD1333C8B7A538E8B2B2B9DCBFD5BC2AB65F3A"> : tensor<12x12xf16>
  return %v : tensor<12x12xf16>
}

// softmax(0.25 q K^T) V as a model would write it (fused into
// qet.qjl_attention), against the dense reference.
func.func @attention() {
  %k = qet.constant {signs = dense<"0xE0F1E5ECE26F9FCFD8195487A2AFE83F1228F93F8FABFBC561437F3FED98EB0CE9786C09"> : tensor<36xi8>, norms = dense<"0x1E438A43B6435C4360447C447342CA42EB43BD43F7419542"> : tensor<24xi8>, outlier_signs = dense<"0xA5A55276595AA4B1EEA5314E"> : tensor<12xi8>, outlier_norms = dense<"0xD945B53D8B41AB41163F024428439A46E7422B40FC45D943"> : tensor<24xi8>, outlier_ids = dense<"0x03050309090C"> : tensor<6xi8>} : !keys
  %q = call @queries() : () -> tensor<5x16xf32>
  %v = call @values() : () -> tensor<12x12xf16>
  %zero = arith.constant 0.0 : f32
  %quarter = arith.constant 0.25 : f32
  %kd = qet.dequantize %k : !keys -> tensor<12x16xf32>
  %kte = tensor.empty() : tensor<16x12xf32>
  %kt = linalg.transpose ins(%kd : tensor<12x16xf32>) outs(%kte : tensor<16x12xf32>) permutation = [1, 0]
  %se = tensor.empty() : tensor<5x12xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<5x12xf32>) -> tensor<5x12xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<5x16xf32>, tensor<16x12xf32>) outs(%sz : tensor<5x12xf32>) -> tensor<5x12xf32>
  %l = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<5x12xf32>) outs(%se : tensor<5x12xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %quarter : f32
    linalg.yield %m : f32
  } -> tensor<5x12xf32>
  %p = linalg.softmax dimension(1) ins(%l : tensor<5x12xf32>) outs(%se : tensor<5x12xf32>) -> tensor<5x12xf32>
  %oe = tensor.empty() : tensor<5x12xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<5x12xf32>) -> tensor<5x12xf32>
  %fused = linalg.matmul ins(%p, %v : tensor<5x12xf32>, tensor<12x12xf16>) outs(%oz : tensor<5x12xf32>) -> tensor<5x12xf32>

  // Reference: k_hat decoded explicitly, logits, max/exp/sum/div, p V.
  %signs = qet.storage %k["signs"] : !keys -> tensor<36xi8>
  %norms = qet.storage %k["norms"] : !keys -> tensor<24xi8>
  %osigns = qet.storage %k["outlier_signs"] : !keys -> tensor<12xi8>
  %onorms = qet.storage %k["outlier_norms"] : !keys -> tensor<24xi8>
  %ids = qet.storage %k["outlier_ids"] : !keys -> tensor<6xi8>
  %khat = call @implied_keys(%signs, %norms, %osigns, %onorms, %ids)
      : (tensor<36xi8>, tensor<24xi8>, tensor<12xi8>, tensor<24xi8>, tensor<6xi8>) -> tensor<12x16xf32>
  %rs = call @dense_scores(%q, %khat) : (tensor<5x16xf32>, tensor<12x16xf32>) -> tensor<5x12xf32>
  %rl = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%rs : tensor<5x12xf32>) outs(%se : tensor<5x12xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %quarter : f32
    linalg.yield %m : f32
  } -> tensor<5x12xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %me = tensor.empty() : tensor<5xf32>
  %mi = linalg.fill ins(%ninf : f32) outs(%me : tensor<5xf32>) -> tensor<5xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%rl : tensor<5x12xf32>) outs(%mi : tensor<5xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.maximumf %acc, %in : f32
    linalg.yield %r : f32
  } -> tensor<5xf32>
  %ex = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%rl, %max : tensor<5x12xf32>, tensor<5xf32>) outs(%se : tensor<5x12xf32>) {
  ^bb0(%in: f32, %mx: f32, %o: f32):
    %d = arith.subf %in, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<5x12xf32>
  %zi = linalg.fill ins(%zero : f32) outs(%me : tensor<5xf32>) -> tensor<5xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%ex : tensor<5x12xf32>) outs(%zi : tensor<5xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %acc, %in : f32
    linalg.yield %r : f32
  } -> tensor<5xf32>
  %rp = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ex, %sum : tensor<5x12xf32>, tensor<5xf32>) outs(%se : tensor<5x12xf32>) {
  ^bb0(%in: f32, %total: f32, %o: f32):
    %r = arith.divf %in, %total : f32
    linalg.yield %r : f32
  } -> tensor<5x12xf32>
  %ref = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rp, %v : tensor<5x12xf32>, tensor<12x12xf16>) outs(%oz : tensor<5x12xf32>) {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %bf = arith.extf %b : f16 to f32
    %pr = arith.mulf %a, %bf : f32
    %r = arith.addf %acc, %pr : f32
    linalg.yield %r : f32
  } -> tensor<5x12xf32>
  %fd = tensor.cast %fused : tensor<5x12xf32> to tensor<?x?xf32>
  %rd = tensor.cast %ref : tensor<5x12xf32> to tensor<?x?xf32>
  call @report(%fd, %rd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// The scores alone: q K^T of the packed keys (qet.qmatmul, the estimator)
// against q k_hat^T.
func.func @scores() {
  %k = qet.constant {signs = dense<"0xE0F1E5ECE26F9FCFD8195487A2AFE83F1228F93F8FABFBC561437F3FED98EB0CE9786C09"> : tensor<36xi8>, norms = dense<"0x1E438A43B6435C4360447C447342CA42EB43BD43F7419542"> : tensor<24xi8>, outlier_signs = dense<"0xA5A55276595AA4B1EEA5314E"> : tensor<12xi8>, outlier_norms = dense<"0xD945B53D8B41AB41163F024428439A46E7422B40FC45D943"> : tensor<24xi8>, outlier_ids = dense<"0x03050309090C"> : tensor<6xi8>} : !keys
  %q = call @queries() : () -> tensor<5x16xf32>
  %zero = arith.constant 0.0 : f32
  %kd = qet.dequantize %k : !keys -> tensor<12x16xf32>
  %se = tensor.empty() : tensor<5x12xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<5x12xf32>) -> tensor<5x12xf32>
  %s = linalg.matmul indexing_maps = [#lhs, #rhs_t, #out]
      ins(%q, %kd : tensor<5x16xf32>, tensor<12x16xf32>) outs(%sz : tensor<5x12xf32>) -> tensor<5x12xf32>
  %signs = qet.storage %k["signs"] : !keys -> tensor<36xi8>
  %norms = qet.storage %k["norms"] : !keys -> tensor<24xi8>
  %osigns = qet.storage %k["outlier_signs"] : !keys -> tensor<12xi8>
  %onorms = qet.storage %k["outlier_norms"] : !keys -> tensor<24xi8>
  %ids = qet.storage %k["outlier_ids"] : !keys -> tensor<6xi8>
  %khat = call @implied_keys(%signs, %norms, %osigns, %onorms, %ids)
      : (tensor<36xi8>, tensor<24xi8>, tensor<12xi8>, tensor<24xi8>, tensor<6xi8>) -> tensor<12x16xf32>
  %rs = call @dense_scores(%q, %khat) : (tensor<5x16xf32>, tensor<12x16xf32>) -> tensor<5x12xf32>
  %fd = tensor.cast %s : tensor<5x12xf32> to tensor<?x?xf32>
  %rd = tensor.cast %rs : tensor<5x12xf32> to tensor<?x?xf32>
  call @report(%fd, %rd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

func.func @main() {
  call @attention() : () -> ()
  call @scores() : () -> ()
  return
}
