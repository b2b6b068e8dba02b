#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to fuzz/corpus/<target>/ (run it again after
changing an input layout; the files are committed). Each seed is a small, named starting
point in the layout the target's comment describes: the cards' examples, the special
values of the policy, bad shapes, long rows.

    python3 fuzz/make_seeds.py
"""

import math
import shutil
import struct
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

# fuzz_support.hpp, input::specials(), in order.
SPECIALS = ["0", "-0", "1", "-1", "0.5", "2", "nan", "-nan", "snan", "inf", "-inf",
            "denorm_min", "-denorm_min", "FLT_MIN", "-FLT_MIN", "FLT_MIN/2", "FLT_MAX", "-FLT_MAX",
            "88.7228", "88.72284", "88.376", "89", "-87.3365", "-103.972", "-104", "-150",
            "1e30", "-1e30", "1.8446744e19", "-1.8446744e19", "1e-23", "-1e-23",
            "3e38", "-3e38", "100", "-100", "1000", "30", "1e-20", "16777216"]


def special(name):
    return bytes([0xC0 + SPECIALS.index(name)])


def value(x):
    """One float as input::value() reads it: exact m * 2^(t - 39) when possible, else raw bits."""
    if isinstance(x, str):
        return special(x)
    if x == 0:
        return special("0")
    for t in range(48):
        m = x / 2.0 ** (t - 39)
        if m == int(m) and -32768 <= m <= 32767:
            return bytes([t]) + struct.pack(">h", int(m))
    return bytes([0xF0]) + struct.pack(">f", x)


def values(xs):
    return b"".join(value(x) for x in xs)


def size(n):
    """A size as input::size_in() reads it (lo = 0)."""
    return bytes([n]) if n < 72 else bytes([0xFF]) + struct.pack(">H", n)


def seeds_dot():
    card_q, card_k = [2.0, 0.5, 1.0, -1.5], [1.0, 1.0, -0.5, 2.0]
    same = b"\x01"  # mode byte: k has q's length
    return {
        "card": b"\x00\x00" + size(4) + same + values(card_q + card_k),
        "empty": b"\x00\x00" + size(0) + same,
        "mismatch": b"\x01\x02" + size(3) + b"\x00" + size(5) + values([1, 2, 3, 4, 5, 6, 7, 8]),
        "nan_and_inf": b"\x03\x01" + size(5) + same + values(["nan", 1, "inf", 2, 3, 1, 1, 0, 1, 1]),
        "inf_minus_inf": b"\x00\x00" + size(2) + same + values(["inf", "-inf", 1, 1]),
        "products_overflow": b"\x00\x00" + size(3) + same + values(["1e30", "1.8446744e19", "3e38", "1e30", "1.8446744e19", 2]),
        "products_underflow": b"\x00\x00" + size(9) + same + values(["1e-23"] * 9 + ["1e-23", "denorm_min", "FLT_MIN"] * 3),
        "every_tail": b"\x02\x03" + size(67) + same + values([0.25, -3, 7.5]),
        "long_row": b"\x01\x00" + size(4099) + same + values([1, -0.5, 2, 0.125, -1]),
    }


def seeds_softmax():
    def row(offset, rows, cols, xs):
        return bytes([offset, rows - 1]) + size(cols) + values(xs)
    return {
        "card": row(0, 1, 3, [1, 2, 3]),
        "empty": row(0, 1, 0, []),
        "one_score": row(1, 1, 1, ["88.7228"]),
        "exp_threshold": row(0, 1, 4, ["88.7228", "88.72284", "88.376", "89"]),
        "all_minus_inf": row(2, 1, 9, ["-inf"] * 9),
        "plus_inf_shared": row(0, 1, 5, ["inf", 1, "inf", "-inf", "inf"]),
        "nan_row": row(3, 1, 17, [1, 2, "nan"] + [0.5] * 14),
        "huge_and_tiny": row(0, 1, 6, ["3e38", "-3e38", "1e30", "-1e30", "FLT_MAX", "-FLT_MAX"]),
        "underflow": row(0, 1, 8, [0, "-87.3365", "-103.972", "-104", "-150", "-100", "denorm_min", "-inf"]),
        "four_rows": row(1, 4, 7, [1, "-inf", 3, 0.5, "nan", 2, "inf"] + ["-inf"] * 7 + [0.25] * 14),
        "long_row": row(0, 1, 2000, [0.5, -1, 3, -7.25, 30]),
    }


def seeds_scores():
    card_q = [2.0, 0.5, 1.0, -1.5]
    card_k = [1.0, 1.0, -0.5, 2.0, 2.0, 0.5, 1.0, -1.5]
    well_formed = b"\x0f"
    return {
        "card": b"\x00\x01\x02" + size(4) + well_formed + values(card_q + card_k),
        "d_differs": b"\x00\x02\x03" + size(4) + b"\x00" + size(5) + values(range(1, 20)),
        "wrong_rows": b"\x01\x02\x03" + size(4) + b"\x01\x03" + values([1, 2]),
        "wrong_cols": b"\x02\x02\x03" + size(4) + b"\x02\x02" + values([1, 2]),
        "d_zero": b"\x00\x03\x02" + size(0) + well_formed,
        "q_storage_short": b"\x00\x02\x02" + size(3) + b"\x03\x01" + values([1, 2, 3]),
        "s_storage_short": b"\x00\x02\x02" + size(3) + b"\x04\x02" + values([1, 2, 3]),
        "views_of_huge_shapes": b"\x00\x01\x01" + size(1) + b"\x05" + b"\xff" * 8 + b"\x00" + b"\x00" * 7 + b"\x02" + b"\x00\x10",
        "causal_mask_300": b"\x00\x00\x00" + size(0) + b"\x06" + size(300),
        "specials": b"\x03\x04\x05" + size(3) + well_formed + values(["nan", "inf", "-inf", "1e30", "denorm_min", -2, "1.8446744e19"]),
        "wide": b"\x00\x08\x08" + size(257) + well_formed + values([0.5, -1.25, 3]),
    }


def seeds_attention():
    card_q = [1.0, 0.0, 1.0, 0.0, 2.0, 0.5, 1.0, -1.5, 0.5, -1.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]
    card_k = [1.0, 1.0, -0.5, 2.0, 0.0, 1.0, 0.0, 0.5, 1.0, 0.0, -1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    return {
        "card_causal": b"\x00\x04\x04\x04\x01\x0f" + values(card_q + card_k),
        "card_full": b"\x01\x04\x04\x04\x00\x0f" + values(card_q + card_k),
        "nothing_to_attend_to": b"\x00\x02\x04\x03\x00\x0f" + values(["-inf", 0, 0, 0.5, -1, 2] + [1, 2, 3, 0.5, -1, 0, 2, 0, 1, 0.25, 1, -2]),
        "infinite_key": b"\x00\x02\x02\x02\x01\x0f" + values([1, 0, -1, 0, "inf", 0, 1, 1]),
        "nan_query": b"\x02\x03\x04\x05\x00\x0f" + values([1, 2, "nan", 0.5, 1] * 7),
        "scores_beyond_exp": b"\x00\x03\x03\x02\x00\x0f" + values([100, 100, -100, 50, 1000, 0.5] + [1, 1, 0.5, -0.5, "88.7228", 1]),
        "scores_overflow": b"\x00\x02\x02\x02\x01\x0f" + values(["3e38", "3e38", 1, 1, "3e38", "-3e38", 2, 2]),
        "d_differs": b"\x00\x02\x02\x03\x00\x00\x04" + values(range(1, 15)),
        "a_wrong_rows": b"\x00\x02\x03\x03\x01\x01\x03" + values([1]),
        "a_wrong_cols": b"\x00\x02\x03\x03\x01\x02\x02" + values([1]),
        "d_zero": b"\x00\x02\x02\x00\x00\x0f",
        "one_by_one": b"\x00\x01\x01\x01\x01\x0f" + values([3, -2]),
        # Found by the fuzzer, kept as it came: on AVX2, d = 2 and scores near 9.5e8, whose
        # float spacing is 64, a weight of 2.9e-72 comes out as 1.6e-28. That is inside the
        # bound only when the score-error factor exp(2E) - 1 multiplies the exact weight,
        # not the weight rounded to float (0): tol::attention_row's `exact`.
        "huge_scores_tiny_weight": bytes.fromhex(
            "00af740274740374585858585858585858585858585858585858027474585858587c742774"
            "5858587c74277474747474090f40cac0184080262626012d00012d01c0747f"),
    }


def seeds_instability():
    def entropy(xs):
        return b"\x00" + size(len(xs)) + values(xs)

    def jacobian(xs, rows=None, cols=None, offset=0):
        n = len(xs)
        shape = b"\x01" if rows is None else b"\x00" + bytes([rows, cols])
        return b"\x01" + bytes([n]) + shape + values(xs) + bytes([offset])

    def variance(d, samples, seed):
        return b"\x02" + bytes([d, samples]) + struct.pack(">Q", seed)

    return {
        "entropy_uniform": entropy([0.25] * 4),
        "entropy_one_hot": entropy([0, 0, 1, 0, 0]),
        "entropy_nan": entropy([0.5, "nan", 0.5]),
        "entropy_out_of_domain": entropy([-0.5, 2, "inf", 1]),
        "entropy_denormals": entropy([1, "denorm_min", "FLT_MIN/2", "FLT_MIN"]),
        "jacobian_card": jacobian([0.09003057, 0.24472848, 0.66524094]),
        "jacobian_wrong_shape": jacobian([0.5, 0.5], rows=2, cols=3),
        "jacobian_huge": jacobian(["3e38", "-3e38", "inf", 0, "nan"], offset=3),
        "variance_no_samples": variance(8, 0, 1),
        "variance_d64": variance(39, 23, 20240601),
        "variance_d0": variance(0, 5, 7),
    }


def seeds_backward():
    # fuzz_backward.cpp: [offset] [n] [mode, bit 0: raw a] [mismatch, 7: bad lengths] [floats]
    def backward(first, g, offset=0, raw=False, mismatch=0):
        return bytes([offset]) + size(len(g)) + bytes([1 if raw else 0, mismatch]) + values(first) + values(g)

    return {
        # The card's scores [1, 2, 3] with the loss the weight of the last key (g = e_2).
        "card_scores": backward([1, 2, 3], [0, 0, 1]),
        # Two scores with a gap of 10 and g = [1, -1]: the gradient that vanishes (step 6).
        "saturated_gap": backward([10, 0], [1, -1], offset=1),
        "weights_given": backward([0.25, 0.25, 0.5], [1, 2, -3], raw=True),
        "nan_in_g": backward([1, 2, 3, 4], [1, "nan", 0, 0], offset=2),
        "inf_in_g": backward([0, "-inf", 1], ["inf", 0, 1]),
        "masked_scores": backward([0.5, "-inf", "-inf", 2, "-inf"], [3, "nan", 1, -1, 2]),
        "huge_g": backward([1, 1], ["3e38", "-3e38"], offset=3),
        "long_row": backward([float(j % 7) for j in range(70)], [float(j % 5) - 2 for j in range(70)]),
        "bad_lengths": backward([1, 2], [1, 1], mismatch=7),
        "empty": backward([], []),
    }


def seeds_online():
    # fuzz_online.cpp: [n] [split] [block - 1] [floats]
    def online(xs, split, block):
        return size(len(xs)) + size(split) + bytes([block - 1]) + values(xs)

    return {
        # The docs' example: [1, 3, 2], the sum going 1 -> 1 + e^-2 -> 1 + e^-2 + e^-1.
        "docs_example": online([1, 3, 2], 1, 2),
        "card_scores": online([1, 2, 3], 2, 1),
        "growing_max": online([float(j) for j in range(40)], 17, 5),
        "nan_score": online([1, "nan", 2], 1, 1),
        "plus_inf": online(["inf", 1, "inf", -2], 2, 3),
        "only_minus_inf": online(["-inf", "-inf", "-inf"], 1, 2),
        "masked_mix": online(["-inf", 0.5, "-inf", 4, -100], 3, 2),
        "huge_range": online(["3e38", "-3e38", "FLT_MAX", "-150", "denorm_min"], 2, 2),
        "empty": online([], 0, 1),
    }


def seeds_alibi():
    # fuzz_alibi.cpp: [heads] [rows] [columns] [slope] [floats]
    def alibi(heads, rows, cols, slope, xs):
        return size(heads) + size(rows) + size(cols) + value(slope) + values(xs)

    return {
        # The card's eight heads: slopes 1/2, 1/4, ..., 1/256; the bias on zero scores.
        "eight_heads": alibi(8, 3, 3, 0.5, [0] * 9),
        "causal_scores": alibi(4, 4, 4, 0.25, [1, "-inf", "-inf", "-inf", 2, 3, "-inf", "-inf",
                                              0, 1, 2, "-inf", 5, 4, 3, 2]),
        "specials": alibi(1, 2, 3, 0.125, ["nan", "inf", "-inf", "FLT_MAX", "-FLT_MAX", "denorm_min"]),
        "wide": alibi(64, 2, 90, 0.0078125, [float(j % 9) for j in range(180)]),
        "no_heads": alibi(0, 0, 5, 2, []),
        "odd_heads": alibi(12, 5, 1, 1.5, [1, 2, 3, 4, 5]),
    }


def seeds_output():
    # fuzz_output.cpp: [n_q] [n_k] [d - 1] [d_v - 1] [flags: bit 0 causal, block = rest % (n_k + 2)]
    # [extra] [floats: Q, K, V, extra rows]
    def output(nq, nk, d, dv, causal, block, extra, xs):
        flags = (1 if causal else 0) | (block << 1)
        return size(nq) + size(nk) + size(d - 1) + size(dv - 1) + bytes([flags, extra]) + values(xs)

    return {
        # The worked example: three tokens, zero scores, the causal mask, V = [1, 2, 3].
        "card_zero_scores": output(3, 3, 1, 1, True, 0, 0, [0, 0, 0, 0, 0, 0, 1, 2, 3]),
        "card_streaming": output(3, 3, 1, 1, True, 2, 0, [0, 0, 0, 0, 0, 0, 1, 2, 3]),
        # The same with two masked keys full of NaN and infinities.
        "masked_garbage": output(3, 3, 1, 1, True, 1, 2, [0, 0, 0, 0, 0, 0, 1, 2, 3,
                                                         "nan", "inf", "nan", "-inf", "nan", "inf"]),
        "card_vectors": output(1, 2, 4, 2, False, 0, 0, [2.0, 0.5, 1.0, -1.5, 1.0, 1.0, -0.5, 2.0,
                                                        2.0, 0.5, 1.0, -1.5, 1, 0, 0, 1]),
        "nan_value": output(2, 2, 2, 1, False, 1, 0, [1, 0, 0, 1, 1, 1, 0, 0, 5, "nan"]),
        "large_scores": output(4, 4, 2, 3, True, 3, 3, [30, -30, 100, 0, 1000, 1, -100, 7] * 4),
        "empty_queries": output(0, 5, 3, 2, False, 4, 0, [1, 2, 3] * 10),
    }


def main():
    targets = {"dot": seeds_dot, "softmax": seeds_softmax, "scores": seeds_scores,
               "attention": seeds_attention, "instability": seeds_instability,
               "backward": seeds_backward, "online": seeds_online,
               "alibi": seeds_alibi, "output": seeds_output}
    for name, make in targets.items():
        folder = CORPUS / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for seed, data in make().items():
            (folder / seed).write_bytes(data)
        print(f"fuzz/corpus/{name}: {len(make())} seeds")


if __name__ == "__main__":
    main()
