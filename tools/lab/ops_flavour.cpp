// The lab's table of a flavour (the answer key solutions/ or the student's exercises/): the
// contract's functions attn::..., linked from attn::solutions or attn::exercises.
// ATTN_LAB_FLAVOUR names it; without it (the reference-only program) there is no table.
#include <attn/contract.hpp>

#include "lab.hpp"

#ifdef ATTN_LAB_FLAVOUR
#define NS attn
#define OPS_NAME ATTN_LAB_FLAVOUR
#include "ops_table.inc"
const attn::lab::ops<float>* attn::lab::flavour_ops() { return &kTable; }
#else
const attn::lab::ops<float>* attn::lab::flavour_ops() { return nullptr; }
#endif
