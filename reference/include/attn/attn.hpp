/// \file attn.hpp
/// \brief Everything a test, tool or downstream user needs: the matrix types, the contract
/// (namespace `attn`, written by students) and the reference (namespace `attn::ref`).
#pragma once

#include <attn/errors.hpp>
#include <attn/matrix.hpp>
#include <attn/online_softmax.hpp>
#include <attn/contract.hpp>
#include <attn/reference.hpp>
