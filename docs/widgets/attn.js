// The course's answer key in the browser: a typed JavaScript binding of the WebAssembly
// module that docs/CMakeLists.txt builds with Emscripten from solutions/ and attn_wasm.cpp
// (the same C++ the tests grade against, compiled to WebAssembly).
//
//   Attn.load().then(function (attn) {
//     attn.dot([1, 2], [3, 4]);               // 11, attn::dot
//     attn.stableSoftmax([1, 2, 3]);          // Float32Array [0.090, 0.245, 0.665]
//   });
//
// Every argument is a number or an array of numbers (any array-like); results are numbers or
// Float32Arrays, computed in float like the C++. A wrong size (or d = 0 where the answer key
// refuses it) throws a RangeError naming the function, what it got and what it expected,
// before the module is called: the answer key's own exceptions are never reached.
// With window.ATTN_RECORD = N set before this script runs, calls are also appended to
// Attn.calls as {fn, args, out} until their numbers total N (Attn.skipped.count counts the
// calls after that): the docs' equality test replays them natively.
(function (global) {
  "use strict";

  var calls = [], recorded = 0, skipped = {count: 0};

  function fail(fn, what, expected) {
    throw new RangeError("Attn." + fn + ": " + what + "; expected " + expected);
  }

  function numbers(fn, name, x) {
    if (x === null || typeof x !== "object" || typeof x.length !== "number") {
      fail(fn, name + " is " + (x === null ? "null" : typeof x), "an array of numbers");
    }
    for (var i = 0; i < x.length; i++) {
      if (typeof x[i] !== "number") fail(fn, name + "[" + i + "] is " + typeof x[i], "a number");
    }
    return Float32Array.from(x);
  }

  function same(fn, a, b, names) {
    if (a.length !== b.length) {
      fail(fn, names[0] + " has " + a.length + " entries and " + names[1] + " " + b.length,
           "two vectors of the same length d");
    }
  }

  // Numbers as JSON can carry them: Infinity and NaN as strings.
  function plain(x) {
    if (typeof x === "number") {
      return isFinite(x) ? x : (isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
    }
    return Array.prototype.map.call(x, plain);
  }

  function Attn(module) {
    var m = module;

    // Runs f with the arrays copied into the module's memory; copies the first `outs` back.
    function withArrays(arrays, f) {
      var total = 0;
      arrays.forEach(function (a) { total += a.length; });
      var base = m._malloc(Math.max(4 * total, 4));
      if (!base) throw new RangeError("Attn: the module could not allocate " + 4 * total + " bytes; expected smaller arrays");
      var pointers = [], at = base;
      arrays.forEach(function (a) {
        m.HEAPF32.set(a, at >> 2);
        pointers.push(at);
        at += 4 * a.length;
      });
      try {
        return f.apply(null, pointers.concat([function (i) {
          return m.HEAPF32.slice(pointers[i] >> 2, (pointers[i] >> 2) + arrays[i].length);
        }]));
      } finally {
        m._free(base);
      }
    }

    function record(fn, args, out) {
      if (global.ATTN_RECORD) {
        var size = (out.length || 1);
        args.forEach(function (a) { size += a.length; });
        if (recorded + size <= global.ATTN_RECORD) {
          recorded += size;
          calls.push({fn: fn, args: args.map(plain), out: plain(out)});
        } else {
          skipped.count++;
        }
      }
      return out;
    }

    function vectorPair(fn, cname, nonEmpty) {
      return function (q, k) {
        var qf = numbers(fn, "q", q), kf = numbers(fn, "k", k);
        same(fn, qf, kf, ["q", "k"]);
        if (nonEmpty && qf.length === 0) fail(fn, "q and k are empty", "vectors of length d >= 1 (the score divides by sqrt(d))");
        var out = withArrays([qf, kf], function (pq, pk) { return m[cname](pq, pk, qf.length); });
        return record(fn, [qf, kf], out);
      };
    }

    function inPlaceRow(fn, cname) {
      return function (x) {
        var xf = numbers(fn, "x", x);
        var out = withArrays([xf], function (px, copy) { m[cname](px, xf.length); return copy(0); });
        return record(fn, [xf], out);
      };
    }

    function rowValue(fn, cname, name) {
      return function (x) {
        var xf = numbers(fn, name, x);
        var out = withArrays([xf], function (px) { return m[cname](px, xf.length); });
        return record(fn, [xf], out);
      };
    }

    function state(fn, s) {
      if (s === null || typeof s !== "object" || typeof s.m !== "number" || typeof s.l !== "number") {
        fail(fn, "the state is " + JSON.stringify(s), "an object {m, l} of two numbers");
      }
      return Float32Array.of(s.m, s.l);
    }

    /** Step 1: q . k (attn::dot). */
    this.dot = vectorPair("dot", "_attn_dot");
    /** Step 2: q . k / sqrt(d) (attn::scaled_score). */
    this.scaledScore = vectorPair("scaledScore", "_attn_scaled_score", true);
    /** Step 2: the nq x nk scores Q K^T / sqrt(d), row-major (attn::scores). */
    this.scores = function (Q, K, d) {
      var fn = "scores";
      var Qf = numbers(fn, "Q", Q), Kf = numbers(fn, "K", K);
      if (!(Number.isInteger(d) && d > 0)) fail(fn, "d is " + d, "a whole number >= 1");
      if (Qf.length % d || Kf.length % d) {
        fail(fn, "Q has " + Qf.length + " and K " + Kf.length + " entries", "whole rows of d = " + d);
      }
      var nq = Qf.length / d, nk = Kf.length / d;
      var out = withArrays([Qf, Kf, new Float32Array(nq * nk)], function (pq, pk, ps, copy) {
        m._attn_scores(pq, pk, ps, nq, nk, d);
        return copy(2);
      });
      return record(fn, [Qf, Kf, [d]], out);
    };
    /** Step 3: the causal mask added to a rows x cols matrix S, row-major (attn::apply_causal_mask). */
    this.applyCausalMask = function (S, rows) {
      var fn = "applyCausalMask";
      var Sf = numbers(fn, "S", S);
      if (!(Number.isInteger(rows) && rows > 0 && Sf.length % rows === 0)) {
        fail(fn, "S has " + Sf.length + " entries for " + rows + " rows", "whole rows");
      }
      var out = withArrays([Sf], function (ps, copy) {
        m._attn_apply_causal_mask(ps, rows, Sf.length / rows);
        return copy(0);
      });
      return record(fn, [Sf, [rows]], out);
    };
    /** Step 4: the naive softmax of a row (attn::softmax): overflows for big scores. */
    this.softmax = inPlaceRow("softmax", "_attn_softmax");
    /** Step 5: the stable softmax of a row (attn::stable_softmax). */
    this.stableSoftmax = inPlaceRow("stableSoftmax", "_attn_stable_softmax");
    /** Step 5: log sum exp of a row (attn::log_sum_exp). */
    this.logSumExp = rowValue("logSumExp", "_attn_log_sum_exp", "x");
    /** Step 6: the entropy of weights a, in nats (attn::entropy). */
    this.entropy = rowValue("entropy", "_attn_entropy", "a");
    /** Step 6: the n x n softmax Jacobian of weights a, row-major (attn::softmax_jacobian). */
    this.softmaxJacobian = function (a) {
      var fn = "softmaxJacobian";
      var af = numbers(fn, "a", a), n = af.length;
      var out = withArrays([af, new Float32Array(n * n)], function (pa, pj, copy) {
        m._attn_softmax_jacobian(pa, pj, n);
        return copy(1);
      });
      return record(fn, [af], out);
    };
    /** Step 9: the state {m, l} after one more score x (attn::push). */
    this.push = function (s, x) {
      var fn = "push";
      var sf = state(fn, s);
      if (typeof x !== "number") fail(fn, "x is " + typeof x, "a number");
      var out = withArrays([sf], function (ps, copy) { m._attn_push(ps, Math.fround(x)); return copy(0); });
      record(fn, [sf, [Math.fround(x)]], out);
      return {m: out[0], l: out[1]};
    };
    /** Step 9: the weight of score x in the row summarised by {m, l} (attn::weight). */
    this.weight = function (s, x) {
      var fn = "weight";
      var sf = state(fn, s);
      if (typeof x !== "number") fail(fn, "x is " + typeof x, "a number");
      var out = withArrays([sf], function (ps) { return m._attn_weight(ps, Math.fround(x)); });
      return record(fn, [sf, [Math.fround(x)]], out);
    };
  }

  var loading = null;
  global.Attn = {
    /** A promise of the binding, once the module is compiled; one module per page. */
    load: function () {
      if (!loading) {
        if (typeof global.AttnModule !== "function") {
          return Promise.reject(new Error("Attn.load: attn_module.js is not loaded; expected its " +
                                          "<script> before attn.js"));
        }
        // Built with WASM_ASYNC_COMPILATION=0 the factory returns the compiled module itself, so
        // the widgets show their numbers in the same task that builds them (no layout shift);
        // a build that compiles asynchronously returns a promise, which works as well.
        var made;
        try {
          made = global.AttnModule();
        } catch (e) {
          loading = Promise.reject(e instanceof Error ? e : new Error("Attn.load: the module failed to start: " + e));
          return loading;
        }
        loading = (made && typeof made.then === "function" ? made : Promise.resolve(made))
          .then(function (module) { return new Attn(module); });
      }
      return loading;
    },
    calls: calls,
    skipped: skipped,
  };
})(window);
