// RUN: qet-opt %s -split-input-file -verify-diagnostics --qet-quantize-weights="scheme=pq bpe=0.5 min-elements=0"
// RUN: not qet-opt %s --qet-quantize-weights="scheme=pq bpe=8 subspaces=3 min-elements=0" 2>&1 | FileCheck %s --check-prefix=MDIVIDE
// RUN: not qet-opt %s --qet-quantize-weights="scheme=rtn bpe=8 bits=4 group=3 min-elements=0" 2>&1 | FileCheck %s --check-prefix=GROUP

// A budget the scheme cannot meet, subspaces that do not divide the rows
// (K = 16), and an RTN group whose metadata overflows the budget are errors
// that say why; the IR is not changed.
func.func @budget(%x: tensor<2x16xf32>, %acc: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // MDIVIDE: :[[@LINE+3]]:8: error: qet-quantize-weights: cannot quantize this 8x16 weight with 'pq': pq: M = 3 subspaces must divide the row length d = 16
  // GROUP: :[[@LINE+2]]:8: error: qet-quantize-weights: cannot quantize this 8x16 weight with 'rtn': rtn: 4 bits with group 3 need 16.0000 bpe, over the budget of 8.0000
  // expected-error @+1 {{cannot quantize this 8x16 weight with 'pq': pq: a budget of 64 bits (0.5000 bpe) is too small for a 8x16 matrix}}
  %w = arith.constant dense<"0xB9864DBFA5AD783E2103D4BF7DF6273FAB5C923FA1BCE7BEA168DC3E3C7A803E83E8C9BE91C65CBF571502C0C288B43F051A43BDD06D21400A83533F40398E3E674D28BF6E3CB23F2A9C01BF18F4C83F03F6CBBEB56A3E3EDDE6C2BF85F715409D90C0BD9C2DC5BEB6934F3FF23064BFE981443F35EB95BFF7940B3FEEA585BF0C25EBBF270118BF8C61BBBFA4A30D3FA087B13C166B023FFAFCBA3D032DB5BE806FE63CF6B7863FA6863BBE871543BF794B78BF2D0C63BEEAEE3FBF8FB8F03F33DB96BFDB718ABFEB9D9CBE4D67263F264489BE783975BF06914EBF039BB3BE4D2E793F075D7ABF0A0ABBBD1AF11CBF9934A63E6255CB3E2A8DBBBF5AC218406527423E986302BF8FDC64BF87DE84BE4252023D4D5C183FFE30B83B27C8F73EE212CEBF3E9C40BFE1D680BF7189283EDB7EEA3EB7A8BBBF7EF52BBECBB7393F8D426A3F26C58EBFB81B103F0B40AD3E9B31DFBE5F44FB3F29328FBFED038EBE32DBE83E3AF3783E3E5A2FBEE93DB03F1001B93FF2A4693FEC35803FEFFF60BD051895BF9B040C40282075BF6DAC0E40102802BE35606D3E7E362DBE1647753F6A1102BF18EEEB3F9FF7083F1DD1323E3BF011BFB8A48F3E7EC954BB9E32F33F44A56F3F93ADC7BF76B9C33F27E217C01B3AC53FA467F1BF1847493A60F64F3FD148FDBB708D8CBFCADB9D3F15C9E3BF8DE7BABFC023B13F186D5DBF4B927C3E"> : tensor<16x8xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x16xf32>, tensor<16x8xf32>) outs(%acc : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
