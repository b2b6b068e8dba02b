// Compiled once per instruction set (see reference/CMakeLists.txt), with exactly one of
// ATTN_ISA_SSE2, ATTN_ISA_AVX2, ATTN_ISA_AVX512F, ATTN_ISA_NEON64 defined and the
// matching compiler flags. Each build defines that instruction set's kernel table.
#include "kernels.hpp"

namespace attn::ref::detail {

#if defined(ATTN_ISA_SSE2)
const kernel_table sse2_table = make_kernel_table<xsimd::sse2>("sse2");
#elif defined(ATTN_ISA_AVX2)
const kernel_table avx2_table = make_kernel_table<xsimd::fma3<xsimd::avx2>>("avx2");
#elif defined(ATTN_ISA_AVX512F)
const kernel_table avx512f_table = make_kernel_table<xsimd::avx512f>("avx512f");
#elif defined(ATTN_ISA_NEON64)
const kernel_table neon64_table = make_kernel_table<xsimd::neon64>("neon64");
#else
#error "isa_kernels.cpp: define one of ATTN_ISA_SSE2, ATTN_ISA_AVX2, ATTN_ISA_AVX512F, ATTN_ISA_NEON64"
#endif

}  // namespace attn::ref::detail
