// The lab's table of the reference, attn::ref (the default, --impl reference).
#include <attn/reference.hpp>

#include "lab.hpp"

#define NS attn::ref
#define OPS_NAME "reference"
#include "ops_table.inc"

const attn::lab::ops<float>& attn::lab::reference_ops() { return kTable; }
