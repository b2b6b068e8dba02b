// The docs' live widgets: each <div class="attn-widget" data-widget="NAME"> on a page becomes
// controls and outputs computed by the course's answer key in WebAssembly (attn.js).
//
//   scaling     step 2     q and k: q.k, q.k / sqrt(d) and q.k / d; random q, k of dimension d
//   weights     steps 3-5  Q and K (4 x 2): scores, causal mask, shift by c, scale; the naive
//                          and the stable softmax side by side
//   saturation  step 6     softmax(t [1, 2, 3]): weights, entropy, Jacobian trace; entropy
//                          against d for random q and k, scaled and unscaled
//   online      step 9     push scores one at a time: m, l and every weight so far
//   lab         lab        a training run's CSV, scrubbed step by step (no WebAssembly)
//
// The script runs where it is included, right after the widgets' placeholders, and builds
// every widget's controls and output cells at once with fixed sizes; the numbers arrive when
// the module is compiled, so nothing moves on the page. Plain JavaScript, no library.
// AttnWidgets.ready is a promise that resolves once every widget shows its numbers.
(function (global) {
  "use strict";

  var doc = global.document;
  var uid = 0;

  // --- Small helpers --------------------------------------------------------------------
  function el(tag, attrs, children) {
    var e = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? doc.createTextNode(c) : c); });
    return e;
  }

  function fmt(x, digits) {
    if (Number.isNaN(x)) return "NaN";
    if (x === Infinity) return "\u221e";
    if (x === -Infinity) return "\u2212\u221e";
    if (x === 0) return "0";
    var a = Math.abs(x), p = digits || 4;
    var s = (a >= 1e5 || a < 1e-3) ? x.toExponential(p - 1) : x.toPrecision(p);
    if (s.indexOf("e") < 0 && s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s.replace("-", "\u2212");
  }

  // A labelled control: <label for=id>text</label><input id=id ...>.
  function control(text, input) {
    input.id = "attn-w" + (++uid);
    return el("span", {class: "attn-control"}, [el("label", {for: input.id, text: text}), input]);
  }

  function parseVector(text) {
    var parts = text.split(/[\s,;]+/).filter(function (s) { return s.length; });
    return parts.map(function (s) { return Number(s); });
  }

  // Deterministic normal numbers (mulberry32 + Box-Muller): the same seed, the same draw.
  function normals(seed, count) {
    var a = seed >>> 0, out = [];
    function uniform() {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    while (out.length < count) {
      var u = uniform() || 1e-12, v = uniform();
      out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    return out;
  }

  // A table of fixed-size cells; returns {table, cells[r][c]}.
  function grid(rows, cols, caption, rowName, colName) {
    var cells = [], head = [el("th", {scope: "col", text: ""})];
    for (var c = 0; c < cols; c++) head.push(el("th", {scope: "col", text: colName(c)}));
    var body = [el("tr", {}, head)];
    for (var r = 0; r < rows; r++) {
      var line = [el("th", {scope: "row", text: rowName(r)})];
      cells.push([]);
      for (var c2 = 0; c2 < cols; c2++) {
        var td = el("td", {class: "attn-num", text: "\u2026"});
        cells[r].push(td);
        line.push(td);
      }
      body.push(el("tr", {}, line));
    }
    var table = el("table", {class: "attn-grid"}, [el("caption", {text: caption})].concat(body));
    return {table: table, cells: cells};
  }

  // Heat colour of a weight in [0, 1] (white to the theme's blue); NaN shows hatched.
  function heat(td, w) {
    td.classList.toggle("attn-nan", Number.isNaN(w));
    var v = Number.isNaN(w) ? 0 : Math.max(0, Math.min(1, w));
    td.style.backgroundColor = "rgba(31, 119, 180, " + (0.08 + 0.82 * v).toFixed(3) + ")";
    td.style.color = v > 0.55 ? "#fff" : "";
  }

  function status(text) { return el("p", {class: "attn-status", "aria-live": "polite", text: text || "\u2026"}); }

  // An SVG line chart of fixed size: series [{name, points: [[x, y]], class}] on given ranges.
  function chart(label, width, height) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = doc.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("class", "attn-chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    var title = doc.createElementNS(ns, "title");
    title.textContent = label;
    svg.appendChild(title);
    var pad = {l: 34, r: 18, t: 8, b: 22};
    function draw(series, xr, yr, xTicks, yTicks, cursor) {
      while (svg.childNodes.length > 1) svg.removeChild(svg.lastChild);
      function X(x) { return pad.l + (x - xr[0]) / (xr[1] - xr[0] || 1) * (width - pad.l - pad.r); }
      function Y(y) { return height - pad.b - (y - yr[0]) / (yr[1] - yr[0] || 1) * (height - pad.t - pad.b); }
      function add(tag, attrs, text) {
        var e = doc.createElementNS(ns, tag);
        Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (text !== undefined) e.textContent = text;
        svg.appendChild(e);
        return e;
      }
      add("line", {x1: pad.l, y1: Y(yr[0]), x2: width - pad.r, y2: Y(yr[0]), class: "attn-axis"});
      add("line", {x1: pad.l, y1: Y(yr[0]), x2: pad.l, y2: Y(yr[1]), class: "attn-axis"});
      xTicks.forEach(function (t) { add("text", {x: X(t[0]), y: height - 6, class: "attn-tick", "text-anchor": "middle"}, t[1]); });
      yTicks.forEach(function (t) { add("text", {x: pad.l - 4, y: Y(t[0]) + 4, class: "attn-tick", "text-anchor": "end"}, t[1]); });
      series.forEach(function (s) {
        var pts = s.points.filter(function (p) { return isFinite(p[1]); })
                          .map(function (p) { return X(p[0]).toFixed(1) + "," + Y(Math.max(yr[0], Math.min(yr[1], p[1]))).toFixed(1); });
        add("polyline", {points: pts.join(" "), class: "attn-line " + s.class, fill: "none"});
      });
      if (cursor !== undefined) add("line", {x1: X(cursor), y1: Y(yr[0]), x2: X(cursor), y2: Y(yr[1]), class: "attn-cursor"});
    }
    return {svg: svg, draw: draw};
  }

  function legend(items) {
    return el("p", {class: "attn-legend"}, items.map(function (it) {
      return el("span", {class: "attn-key " + it[0], text: it[1]});
    }));
  }

  // --- Step 2: q.k, scaled by sqrt(d) and by d --------------------------------------------
  function scaling(root, attn) {
    var card = ["2.0, 0.5, 1.0, -1.5", "1.0, 1.0, -0.5, 2.0"];  // the card's query and key
    var q = el("input", {type: "text", value: card[0], size: "24", spellcheck: "false"});
    var k = el("input", {type: "text", value: card[1], size: "24", spellcheck: "false"});
    var d = el("select", {}, [4, 16, 64, 256, 1024].map(function (n) { return el("option", {value: String(n), text: String(n)}); }));
    var draw = el("button", {type: "button", text: "Draw random q and k"});
    var out = grid(1, 4, "q\u00b7k and its two rescalings", function () { return "value"; },
                   function (c) { return ["d", "q\u00b7k", "q\u00b7k / \u221ad", "q\u00b7k / d"][c]; });
    var note = status();
    root.appendChild(el("div", {class: "attn-controls"}, [control("q", q), control("k", k)]));
    root.appendChild(el("div", {class: "attn-controls"}, [control("random q, k of dimension d =", d), draw]));
    root.appendChild(out.table);
    root.appendChild(note);
    var seed = 1;
    function update() {
      var qv = parseVector(q.value), kv = parseVector(k.value);
      var c = out.cells[0];
      try {
        var dot = attn.dot(qv, kv), scaled = attn.scaledScore(qv, kv);
        c[0].textContent = String(qv.length);
        c[1].textContent = fmt(dot);
        c[2].textContent = fmt(scaled);
        c[3].textContent = fmt(Math.fround(dot / qv.length));
        note.textContent = q.value === card[0] && k.value === card[1]
          ? "The card's q and k: q\u00b7k = \u22121, and the score is \u22121 / \u221a4 = \u22120.5."
          : "For random components of variance 1, q\u00b7k spreads like \u221ad, q\u00b7k / \u221ad stays of order 1 and q\u00b7k / d shrinks towards 0: draw a few at d = 1024.";
      } catch (e) {
        c.forEach(function (td) { td.textContent = "\u2013"; });
        note.textContent = e instanceof Error ? e.message : "The answer key refused these inputs (" + e + ").";
      }
    }
    function random() {
      var n = Number(d.value), v = normals(seed++, 2 * n).map(function (x) { return Math.fround(x).toPrecision(3); });
      q.value = v.slice(0, n).join(", ");
      k.value = v.slice(n).join(", ");
      update();
    }
    q.addEventListener("input", update);
    k.addEventListener("input", update);
    d.addEventListener("change", random);
    draw.addEventListener("click", random);
    return update;
  }

  // --- Steps 3-5: scores, mask, shift, scale; naive and stable softmax ---------------------
  function weights(root, attn) {
    var n = 4, d = 2;
    var Q0 = [1, 0, 0, 1, 1, 1, 2, -1], K0 = [1, 0.5, 0, 1, 1, 1, -1, 2];
    function matrixInputs(name, values) {
      var inputs = [], rows = [];
      for (var r = 0; r < n; r++) {
        var cells = [el("th", {scope: "row", text: name.toLowerCase() + "\u2080\u2081\u2082\u2083".charAt(r)})];
        for (var c = 0; c < d; c++) {
          var input = el("input", {type: "number", step: "0.5", value: String(values[r * d + c]),
                                   "aria-label": name + " row " + r + ", component " + c, class: "attn-cell-input"});
          inputs.push(input);
          cells.push(el("td", {}, [input]));
        }
        rows.push(el("tr", {}, cells));
      }
      return {inputs: inputs, table: el("table", {class: "attn-grid"}, [el("caption", {text: name + " (4 \u00d7 2)"})].concat(rows))};
    }
    var Q = matrixInputs("Q", Q0), K = matrixInputs("K", K0);
    var causal = el("input", {type: "checkbox", checked: "checked"});
    var shift = el("input", {type: "range", min: "-200", max: "200", step: "1", value: "0"});
    var scale = el("input", {type: "range", min: "1", max: "120", step: "1", value: "1"});
    var shiftOut = el("output", {class: "attn-num", text: "0"});
    var scaleOut = el("output", {class: "attn-num", text: "1"});
    function name(prefix) { return function (i) { return prefix + i; }; }
    var S = grid(n, n, "scores \u03b2\u1d62\u2c7c (after scale, mask and shift)", name("q"), name("k"));
    function keyOrSum(j) { return j < n ? "k" + j : "row sum"; }
    var naive = grid(n, n + 1, "naive softmax (step 4)", name("q"), keyOrSum);
    var stable = grid(n, n + 1, "stable softmax (step 5)", name("q"), keyOrSum);
    var note = status();
    root.appendChild(el("div", {class: "attn-row"}, [Q.table, K.table]));
    root.appendChild(el("div", {class: "attn-controls"}, [
      control("causal mask", causal),
      el("span", {class: "attn-control"}, [control("shift every score by c =", shift).firstChild, shift, shiftOut]),
      el("span", {class: "attn-control"}, [control("scale the scores by", scale).firstChild, scale, scaleOut])]));
    root.appendChild(el("div", {class: "attn-row"}, [S.table, naive.table, stable.table]));
    root.appendChild(note);
    function update() {
      var q = Q.inputs.map(function (i) { return Number(i.value) || 0; });
      var k = K.inputs.map(function (i) { return Number(i.value) || 0; });
      var c = Number(shift.value), s = Number(scale.value);
      shiftOut.textContent = String(c);
      scaleOut.textContent = String(s);
      var scores = attn.scores(q, k, d).map(function (x) { return Math.fround(x * s); });
      if (causal.checked) scores = attn.applyCausalMask(scores, n);
      var unshifted = scores.slice();
      scores = scores.map(function (x) { return Math.fround(x + c); });
      var over = 0, under = 0, moved = 0, apart = 0;
      for (var i = 0; i < n; i++) {
        var row = scores.slice(i * n, i * n + n);
        var a = attn.softmax(row), b = attn.stableSoftmax(row), b0 = attn.stableSoftmax(unshifted.slice(i * n, i * n + n));
        if (a.some(Number.isNaN)) {
          if (Math.max.apply(null, row) > 0) over++; else under++;
        }
        for (var j = 0; j < n; j++) {
          S.cells[i][j].textContent = fmt(row[j], 3);
          naive.cells[i][j].textContent = fmt(a[j], 3);
          stable.cells[i][j].textContent = fmt(b[j], 3);
          heat(naive.cells[i][j], a[j]);
          heat(stable.cells[i][j], b[j]);
          moved = Math.max(moved, Math.abs(b[j] - b0[j]));
          if (!Number.isNaN(a[j])) apart = Math.max(apart, Math.abs(a[j] - b[j]));
        }
        // The row sums, added in double here: 1 up to the float rounding of the weights.
        var sa = 0, sb = 0;
        for (var l = 0; l < n; l++) { sa += a[l]; sb += b[l]; }
        naive.cells[i][n].textContent = fmt(sa, 5);
        stable.cells[i][n].textContent = fmt(sb, 5);
      }
      // exp overflows float above ln(FLT_MAX) = 88.72 and rounds to 0 below about -103.97.
      var naiveNote = over || under
        ? "The naive softmax gives NaN in " + (over + under) + " of 4 rows: " +
          (over ? "exp overflows to \u221e above 88.72 (\u221e / \u221e)" : "") + (over && under ? "; " : "") +
          (under ? "every exp of the row rounds to 0 below \u2212103.97 (0 / 0)" : "") +
          ". The stable one subtracts each row's max first and never does. "
        : "The naive and the stable softmax differ by at most " + fmt(apart, 2) + ". ";
      note.textContent = naiveNote + "The shift c = " + c + " moves the stable weights by at most " + fmt(moved, 2) +
        " (shift invariance: softmax(x + c) = softmax(x); what moves at all is the float rounding of x + c).";
    }
    Q.inputs.concat(K.inputs, [shift, scale]).forEach(function (i) { i.addEventListener("input", update); });
    causal.addEventListener("change", update);
    return update;
  }

  // --- Step 6: saturation, and entropy against d --------------------------------------------
  function saturation(root, attn) {
    var t = el("input", {type: "range", min: "0", max: "12", step: "0.1", value: "1"});
    var tOut = el("output", {class: "attn-num", text: "1"});
    var weightsTable = grid(1, 3, "a = softmax(\u03c4\u00b7[1, 2, 3])", function () { return "a"; }, function (c) {
      return ["a\u2080", "a\u2081", "a\u2082"][c];
    });
    var measures = grid(1, 3, "how saturated", function () { return ""; }, function (c) {
      return ["H(a), nats", "H / ln 3", "trace J"][c];
    });
    var keys = el("select", {}, [4, 16, 64, 256].map(function (n) { return el("option", {value: String(n), text: String(n)}); }));
    keys.value = "16";
    var again = el("button", {type: "button", text: "Draw again"});
    var plot = chart("Mean entropy of the weights of one query over n random keys, against d (log scale), scaled by 1/\u221ad and unscaled", 480, 160);
    var note = status();
    root.appendChild(el("div", {class: "attn-controls"}, [el("span", {class: "attn-control"}, [control("\u03c4 =", t).firstChild, t, tOut])]));
    root.appendChild(el("div", {class: "attn-row"}, [weightsTable.table, measures.table]));
    root.appendChild(el("div", {class: "attn-controls"}, [control("keys n =", keys), again]));
    root.appendChild(el("div", {class: "attn-figure"}, [plot.svg]));
    root.appendChild(legend([["attn-scaled", "scaled q\u00b7k / \u221ad"], ["attn-unscaled", "unscaled q\u00b7k"], ["attn-max", "ln n (uniform)"]]));
    root.appendChild(note);
    var seed = 7;
    function update() {
      var tv = Number(t.value);
      tOut.textContent = tv.toFixed(1);
      var a = attn.stableSoftmax([1, 2, 3].map(function (x) { return Math.fround(tv * x); }));
      var J = attn.softmaxJacobian(a), H = attn.entropy(a);
      var c = weightsTable.cells[0], m = measures.cells[0];
      a.forEach(function (w, j) { c[j].textContent = fmt(w); heat(c[j], w); });
      m[0].textContent = fmt(H); m[1].textContent = fmt(H / Math.log(3)); m[2].textContent = fmt(J[0] + J[4] + J[8]);
      note.textContent = tv >= 8
        ? "From \u03c4 = 8 on (the card's scores unscaled at d = 64 are 8\u00b7[1, 2, 3]) the weights are nearly one-hot and the Jacobian, the gradient through them, has nearly vanished."
        : "Grow \u03c4: the weights go one-hot, the entropy falls to 0 and the trace of J, the gradient left, with it.";
    }
    function entropies() {
      // One query against n keys per draw: its scores come from attn.scores (a 1 x n row of
      // q K^T / sqrt(d)), its raw dot products from attn.dot, one key at a time.
      var n = Number(keys.value), ds = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], reps = 8;
      var hs = ds.map(function () { return 0; }), hu = hs.slice();
      for (var r = 0; r < reps; r++) {
        ds.forEach(function (d, at) {
          var v = normals(seed * 7919 + d * 31 + r, d * (n + 1));
          var q = v.slice(0, d), K = v.slice(d), u = [];
          for (var j = 0; j < n; j++) u.push(attn.dot(q, K.slice(d * j, d * (j + 1))));
          hs[at] += attn.entropy(attn.stableSoftmax(attn.scores(q, K, d)));
          hu[at] += attn.entropy(attn.stableSoftmax(u));
        });
      }
      var scaled = ds.map(function (d, at) { return [Math.log2(d), hs[at] / reps]; });
      var unscaled = ds.map(function (d, at) { return [Math.log2(d), hu[at] / reps]; });
      var top = Math.log(n);
      plot.draw([{points: scaled, class: "attn-scaled"}, {points: unscaled, class: "attn-unscaled"},
                 {points: [[0, top], [10, top]], class: "attn-max"}],
                [0, 10], [0, top * 1.05],
                [[0, "d=1"], [3, "8"], [6, "64"], [10, "1024"]], [[0, "0"], [top, "ln " + n]]);
    }
    t.addEventListener("input", update);
    keys.addEventListener("change", entropies);
    again.addEventListener("click", function () { seed++; entropies(); });
    return function () { update(); entropies(); };
  }

  // --- Step 9: the online softmax, one score at a time ---------------------------------------
  function online(root, attn) {
    var x = el("input", {type: "number", step: "0.5", value: "1"});
    var push = el("button", {type: "button", text: "Push"});
    var reset = el("button", {type: "button", text: "Reset"});
    var max = 8;
    var preview = status();
    var table = grid(max, 4, "the scores pushed so far", function (r) { return "x" + r; }, function (c) {
      return ["x\u2c7c", "m after it", "\u2113 after it", "weight e^(x\u2c7c \u2212 m) / \u2113 now"][c];
    });
    var note = status();
    root.appendChild(el("div", {class: "attn-controls"}, [control("next score x =", x), push, reset]));
    root.appendChild(preview);
    root.appendChild(table.table);
    root.appendChild(note);
    var xs, states;
    function start() { xs = []; states = []; }
    function current() { return states.length ? states[states.length - 1] : {m: -Infinity, l: 0}; }
    function update() {
      var s = current(), v = Number(x.value);
      if (x.value.trim() === "" || Number.isNaN(v)) {
        preview.textContent = "Type a number to push.";
      } else {
        var next = attn.push(s, v);
        preview.textContent = "Pushing " + fmt(Math.fround(v)) + " would give m = " + fmt(next.m) + " and \u2113 = " + fmt(next.l) +
          (next.m > s.m && xs.length ? " (a new maximum: \u2113 is first multiplied by e^(m \u2212 m') = " + fmt(Math.exp(s.m - next.m), 3) + ")" : "") + ".";
      }
      var total = 0;
      for (var r = 0; r < max; r++) {
        var c = table.cells[r];
        if (r < xs.length) {
          var w = attn.weight(s, xs[r]);
          total += w;
          c[0].textContent = fmt(xs[r]); c[1].textContent = fmt(states[r].m); c[2].textContent = fmt(states[r].l); c[3].textContent = fmt(w);
          heat(c[3], w);
        } else {
          c.forEach(function (td) { td.textContent = ""; td.style.backgroundColor = ""; });
        }
      }
      if (!xs.length) {
        note.textContent = "The empty state is m = \u2212\u221e, \u2113 = 0. Push the card's scores 1, 2, 3 to see a^(2) = [0.090, 0.245, 0.665] appear.";
      } else {
        var check = attn.stableSoftmax(xs), gap = 0;
        xs.forEach(function (xv, j) { gap = Math.max(gap, Math.abs(attn.weight(s, xv) - check[j])); });
        note.textContent = xs.length + " score(s): the weights sum to " + fmt(total, 7) + " and differ from the two-pass stable softmax by at most " +
          fmt(gap, 2) + "." + (xs.length === max ? " The table is full: Reset to start again." : "");
      }
      push.disabled = xs.length === max;
    }
    push.addEventListener("click", function () {
      var v = Number(x.value);
      if (x.value.trim() === "" || Number.isNaN(v) || xs.length === max) return;
      states.push(attn.push(current(), v));
      xs.push(Math.fround(v));
      x.value = String(Number(x.value) + 1);
      update();
    });
    reset.addEventListener("click", function () { start(); update(); });
    x.addEventListener("input", update);
    start();
    return update;
  }

  // --- The lab: a training run's CSV, step by step -------------------------------------------
  // attn_lab writes its numbers with iostream: a diverged run may hold inf, -inf or nan.
  function csvNumber(field) {
    var t = field === undefined ? "" : field.trim();
    if (/^[+-]?inf(inity)?$/i.test(t)) return t.charAt(0) === "-" ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(t)) return NaN;
    var v = t === "" ? NaN : Number(t);
    return Number.isNaN(v) ? undefined : v;
  }

  function parseRun(text) {
    var lines = String(text).split(/\r?\n/);
    var head = lines[0].split(",").map(function (s) { return s.trim(); });
    var want = ["step", "loss", "entropy", "max_score", "grad_norm"];
    var at = want.map(function (w) { return head.indexOf(w); });
    if (at.some(function (i) { return i < 0; })) {
      throw new Error("the CSV's header is '" + head.join(",") + "'; expected the columns of ./attn lab --csv: " + want.join(","));
    }
    var rows = [];
    lines.forEach(function (line, n) {
      if (n === 0 || !line.trim()) return;
      var f = line.split(",");
      rows.push(at.map(function (i) {
        var v = csvNumber(f[i]);
        if (v === undefined) {
          throw new Error("line " + (n + 1) + " has '" + (f[i] === undefined ? "" : f[i]) + "' in column " + head[i] +
                          "; expected a number (inf and nan allowed)");
        }
        return v;
      }));
    });
    if (!rows.length) throw new Error("the CSV has a header but no steps");
    return rows;
  }

  function lab(root) {
    var runs = global.ATTN_LAB_RUNS || {};
    var pick = el("select", {}, Object.keys(runs).map(function (k) { return el("option", {value: k, text: k}); }));
    var file = el("input", {type: "file", accept: ".csv,text/csv"});
    var step = el("input", {type: "range", min: "0", max: "0", step: "1", value: "0"});
    var stepOut = el("output", {class: "attn-num", text: "0"});
    var table = grid(5, 1, "the run at this step", function (r) {
      return ["step", "loss", "entropy (nats)", "largest |score|", "gradient norm"][r];
    }, function () { return "value"; });
    var loss = chart("Loss and entropy against step, with the step shown", 480, 160);
    var score = chart("Largest |score| against step (log scale), with the step shown", 480, 160);
    var note = status();
    var choose = [control("run", pick), control("or load a CSV of ./attn lab --csv", file)];
    root.appendChild(el("div", {class: "attn-controls"}, choose));
    root.appendChild(el("div", {class: "attn-controls"}, [el("span", {class: "attn-control"}, [control("step", step).firstChild, step, stepOut])]));
    root.appendChild(table.table);
    root.appendChild(el("div", {class: "attn-row"}, [el("div", {class: "attn-figure"}, [loss.svg]), el("div", {class: "attn-figure"}, [score.svg])]));
    root.appendChild(legend([["attn-scaled", "loss"], ["attn-unscaled", "entropy"], ["attn-max", "largest |score|"]]));
    root.appendChild(note);
    var rows = [], name = "";
    function show() {
      var i = Math.min(Number(step.value), rows.length - 1), r = rows[i];
      stepOut.textContent = String(r[0]);
      r.forEach(function (v, c) { table.cells[c][0].textContent = c ? fmt(v) : String(v); });
      var last = rows[rows.length - 1][0];
      // The axis spans the finite values only: a diverged step (inf or nan) is left out of the line.
      var finite = [];
      rows.forEach(function (x) { [x[1], x[2]].forEach(function (v) { if (isFinite(v)) finite.push(v); }); });
      var top = (finite.length ? Math.max.apply(null, finite) : 1) * 1.05 || 1;
      loss.draw([{points: rows.map(function (x) { return [x[0], x[1]]; }), class: "attn-scaled"},
                 {points: rows.map(function (x) { return [x[0], x[2]]; }), class: "attn-unscaled"}],
                [0, last], [0, top], [[0, "0"], [last, String(last)]], [[0, "0"], [top, fmt(top, 2)]], r[0]);
      var logs = rows.map(function (x) { return [x[0], Math.log10(Math.max(x[3], 1e-3))]; });
      var hi = Math.max.apply(null, logs.map(function (p) { return isFinite(p[1]) ? p[1] : -3; })), lo = Math.min.apply(null, logs.map(function (p) { return isFinite(p[1]) ? p[1] : 10; }));
      score.draw([{points: logs, class: "attn-max"}], [0, last], [Math.floor(lo), Math.ceil(hi + 1e-9)],
                 [[0, "0"], [last, String(last)]], [[Math.floor(lo), "1e" + Math.floor(lo)], [Math.ceil(hi + 1e-9), "1e" + Math.ceil(hi + 1e-9)]], r[0]);
      note.textContent = "Step " + r[0] + " of " + last + " of " + name + ". Watch the entropy collapse as the largest score grows; a loss of NaN or a jump means training diverged.";
    }
    function use(text, label) {
      try {
        rows = parseRun(text);
      } catch (e) {
        note.textContent = "Could not read " + label + ": " + e.message + ".";
        return;
      }
      name = label;
      step.max = String(rows.length - 1);
      step.value = String(Math.min(Number(step.value), rows.length - 1));
      show();
    }
    pick.addEventListener("change", function () { if (pick.value in runs) use(runs[pick.value], "the run '" + pick.value + "'"); });
    file.addEventListener("change", function () {
      var f = file.files && file.files[0];
      if (!f) return;
      var reader = new FileReader();
      reader.onload = function () { use(String(reader.result), f.name); };
      reader.onerror = function () { note.textContent = "Could not read " + f.name + "."; };
      reader.readAsText(f);
    });
    step.addEventListener("input", show);
    return function () {
      if (pick.value) use(runs[pick.value], "the run '" + pick.value + "'");
      else note.textContent = "No run is built into these docs: load a CSV written by ./attn lab --csv run.csv.";
    };
  }

  // --- Start every widget on the page ----------------------------------------------------------
  // Each widget is built now, inside a disabled <fieldset>, with a binding object that receives
  // the answer key's functions once the module is compiled; then its numbers are filled in and
  // its controls enabled. The lab needs no module and starts at once.
  var kinds = {scaling: scaling, weights: weights, saturation: saturation, online: online, lab: lab};
  var waiting = [], started = [];
  var binding = {};
  Array.prototype.forEach.call(doc.querySelectorAll(".attn-widget[data-widget]:not([data-built])"), function (root) {
    var name = root.getAttribute("data-widget"), kind = kinds[name];
    root.setAttribute("data-built", "");
    if (!kind) {
      root.appendChild(status("Unknown widget '" + name + "'; expected one of " + Object.keys(kinds).join(", ") + "."));
      return;
    }
    var body = el("fieldset", {class: "attn-widget-body", disabled: ""});
    root.appendChild(body);
    var begin = kind(body, binding);
    var entry = {root: root, body: body, begin: begin};
    (kind === lab ? started : waiting).push(entry);
  });

  function broken(entry, error) {
    var message = error instanceof Error ? error.message : String(error);
    entry.body.appendChild(status("This widget could not start: " + message));
    entry.root.setAttribute("data-error", message);
  }

  // Starts each widget on its own: one that fails says so and the others still start; the
  // first failure is re-thrown once all have been tried, so that it reaches the console.
  function beginAll(entries) {
    var first = null;
    entries.forEach(function (entry) {
      try {
        entry.begin();
        entry.body.disabled = false;
        entry.root.setAttribute("data-ready", "");
      } catch (e) {
        broken(entry, e);
        first = first || e;
      }
    });
    if (first) throw first;
  }

  beginAll(started);
  var ready = Promise.resolve();
  if (waiting.length) {
    var loading = global.Attn ? global.Attn.load()
      : Promise.reject(new Error("attn.js is not loaded; expected its <script> before widgets.js"));
    ready = loading.then(function (attn) {
      Object.keys(attn).forEach(function (k) { binding[k] = attn[k]; });
      beginAll(waiting);
    }, function (e) {
      waiting.forEach(function (entry) { broken(entry, e); });
      throw e;
    });
  }

  global.AttnWidgets = {
    /** Resolves when every widget on the page shows its numbers (rejects if the module fails). */
    ready: ready,
  };
})(window);
