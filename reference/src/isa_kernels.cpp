// Compiled once per instruction set (see reference/CMakeLists.txt), with exactly one of
// ATTN_ISA_SSE2, ATTN_ISA_AVX2, ATTN_ISA_AVX512F, ATTN_ISA_NEON64 defined and the
// matching compiler flags. Each build defines that instruction set's kernel table.
#include "kernels.hpp"

namespace attn::ref::detail {

#if defined(ATTN_ISA_SSE2)
const kernel_table sse2_table = kernels<xsimd::sse2>::table("sse2");
#elif defined(ATTN_ISA_AVX2)
const kernel_table avx2_table = kernels<xsimd::fma3<xsimd::avx2>>::table("avx2");
#elif defined(ATTN_ISA_AVX512F)
const kernel_table avx512f_table = kernels<xsimd::avx512f>::table("avx512f");
#elif defined(ATTN_ISA_NEON64)
const kernel_table neon64_table = kernels<xsimd::neon64>::table("neon64");
#else
#error "isa_kernels.cpp: define one of ATTN_ISA_SSE2, ATTN_ISA_AVX2, ATTN_ISA_AVX512F, ATTN_ISA_NEON64"
#endif

}  // namespace attn::ref::detail
