// Internal: the per-ISA kernel tables, implemented in kernels_scalar.cpp, kernels_avx2.cpp and
// kernels_avx512.cpp and gathered by kernels_dispatch.cpp. Nothing outside core/ includes this.
#pragma once
#include "core/kernels.h"

namespace minirec {
namespace kernels {

const KernelTable& scalar_table();
const KernelTable* avx2_table();    // the AVX2+FMA table
const KernelTable* avx512_table();  // the AVX-512 table

}  // namespace kernels
}  // namespace minirec
