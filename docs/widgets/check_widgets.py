#!/usr/bin/env python3
"""Checks the docs' live widgets in headless Chromium, as a reader would use them.

    check_widgets.py --html <docs/html> --pages step2_scaling,...,lab --check controls
    check_widgets.py --html <docs/html> --pages ... --check equal --oracle <attn_widget_oracle>

--check controls, for every page: the page loads no more than --budget-kib of widget scripts
(the module, its binding, the widgets, the lab's runs); with JavaScript off (the page's own
HTML) the widget says so and the page's static example is still there; with JavaScript on every widget starts, shows
its numbers before the page below it is laid out (its height when the parser passes it is its
height once running: no layout shift), every control has a label and takes keyboard focus,
moving each control in turn changes the widget's outputs, and no error reaches the console.

--check equal: the same session's calls of the answer key in WebAssembly (every call the
widgets made, recorded by attn.js) are replayed natively by attn_widget_oracle, the same answer
key compiled for this machine, and each result must agree within the bound of
tests/support/tolerances.hpp for two implementations; special values (inf, NaN) exactly.

Exit codes: 0 pass, 1 a check failed, 77 Chromium is not installed (ctest SKIP_RETURN_CODE).
Only the Python standard library is needed.
"""
import argparse
import html
import json
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from check_browser import SKIP, find_chromium, report, run_chromium  # noqa: E402

# The widgets' own files; the per-page budget counts these (Doxygen's and MathJax's are the
# docs' with or without widgets).
WIDGET_FILES = ("attn_module.js", "attn.js", "widgets.js", "lab_runs.js")
BUDGET_MS = "20000"
# How many numbers (arguments and results) of the widgets' calls the probe records per page:
# every call of a page's first minute of use fits, except the larger random draws of step 6,
# whose first calls are kept (the rest are counted and reported).
RECORD_NUMBERS = 400000

# Runs in the page before anything else: records errors, then once the widgets are ready
# moves every control of every widget in turn and reports what happened as JSON in
# <pre id="attn-probe">.
PROBE = r"""
<base href="{base}">
<script>
window.ATTN_RECORD = {record};
var attnProbe = {errors: [], parsed: []};
window.addEventListener("error", function (e) {
  var t = e.target;
  if (t && t !== window && (t.src || t.href)) attnProbe.errors.push("could not load " + (t.src || t.href));
  else attnProbe.errors.push("uncaught: " + (e.message || e));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  attnProbe.errors.push("unhandled rejection: " + (e.reason && e.reason.message || e.reason));
});
["error", "warn"].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    attnProbe.errors.push("console." + level + ": " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
});
// Called right after widgets.js (the check puts it there): what the parser sees, before any
// content after the widget exists.
function attnProbeParsed() {
  document.querySelectorAll(".attn-widget").forEach(function (w) {
    var r = w.getBoundingClientRect();
    attnProbe.parsed.push({height: r.height, width: r.width, text: w.textContent});
  });
}
function attnSnapshot(body) {
  var parts = [body.textContent];
  body.querySelectorAll("polyline, line").forEach(function (p) {
    parts.push(p.getAttribute("points") || [p.getAttribute("x1"), p.getAttribute("y1")].join(","));
  });
  body.querySelectorAll("td").forEach(function (td) { parts.push(td.style.backgroundColor); });
  return parts.join("|");
}
function attnName(c) {
  if (c.getAttribute("aria-label")) return c.getAttribute("aria-label");
  if (c.id) {
    var l = document.querySelector('label[for="' + c.id + '"]');
    if (l && l.textContent.trim()) return l.textContent.trim();
  }
  if (c.tagName === "BUTTON") return c.textContent.trim();
  return "";
}
function attnFire(c, type) { c.dispatchEvent(new Event(type, {bubbles: true})); }
function attnMove(c) {
  if (c.tagName === "BUTTON") { c.click(); return "clicked"; }
  if (c.tagName === "SELECT") {
    c.selectedIndex = (c.selectedIndex + 1) % c.options.length;
    attnFire(c, "change");
    return "chose " + c.value;
  }
  switch (c.type) {
    case "checkbox": c.click(); return c.checked ? "checked" : "unchecked";
    case "range":
      c.value = Number(c.value) === Number(c.max) ? c.min : c.max;
      attnFire(c, "input"); attnFire(c, "change");
      return "set to " + c.value;
    case "number":
      c.value = String(Number(c.value) + 1.5);
      attnFire(c, "input");
      return "set to " + c.value;
    case "text":
      c.value = c.value + ", 1";
      attnFire(c, "input");
      return "set to " + c.value;
    case "file":
      var csv = "step,loss,entropy,max_score,grad_norm\n";
      for (var s = 0; s < 20; s++) csv += [s, 2 - s / 20, 2.5 - s / 10, 1 + s, 0.5].join(",") + "\n";
      var dt = new DataTransfer();
      dt.items.add(new File([csv], "probe_run.csv", {type: "text/csv"}));
      c.files = dt.files;
      attnFire(c, "change");
      return "loaded probe_run.csv";
  }
  return "no move known for <" + c.tagName.toLowerCase() + " type=" + c.type + ">";
}
function attnReport(result) {
  result.errors = attnProbe.errors;
  result.parsed = attnProbe.parsed;
  result.calls = window.Attn ? window.Attn.calls : [];
  result.skipped = window.Attn ? window.Attn.skipped.count : 0;
  var pre = document.createElement("pre");
  pre.id = "attn-probe";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
}
function attnWait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
window.addEventListener("load", function () {
  if (!window.AttnWidgets) { attnReport({fatal: "widgets.js did not run (window.AttnWidgets is missing)"}); return; }
  window.AttnWidgets.ready.then(async function () {
    var widgets = [];
    var roots = document.querySelectorAll(".attn-widget");
    for (var i = 0; i < roots.length; i++) {
      var root = roots[i], body = root.querySelector(".attn-widget-body");
      // The height now, at the width the widget had when the parser passed it: the page's own
      // scripts (Doxygen's side bar) may change the column's width after that, which is no
      // shift of the widget's making.
      var now = root.getBoundingClientRect(), first = attnProbe.parsed[i], height = now.height;
      if (first && Math.abs(now.width - first.width) > 0.5) {
        var style = [root.style.width, root.style.maxWidth];
        root.style.width = first.width + "px";
        root.style.maxWidth = "none";
        height = root.getBoundingClientRect().height;
        root.style.width = style[0];
        root.style.maxWidth = style[1];
      }
      var w = {widget: root.getAttribute("data-widget"), ready: root.hasAttribute("data-ready"),
               error: root.getAttribute("data-error"), height: height, width: first ? first.width : now.width,
               text: root.textContent, controls: []};
      widgets.push(w);
      if (!body) continue;
      var controls = body.querySelectorAll("input, select, button, textarea");
      for (var j = 0; j < controls.length; j++) {
        var c = controls[j];
        var entry = {control: (c.tagName.toLowerCase() + (c.type ? "[" + c.type + "]" : "")) + " '" + attnName(c) + "'",
                     named: attnName(c) !== "", focusable: !c.disabled && c.tabIndex >= 0};
        var before = attnSnapshot(body);
        entry.move = attnMove(c);
        await attnWait(60);
        entry.changed = attnSnapshot(body) !== before;
        w.controls.push(entry);
      }
    }
    attnReport({widgets: widgets});
  }, function (e) { attnReport({fatal: "AttnWidgets.ready rejected: " + (e && e.message || e)}); });
});
</script>
"""


def page_budget(html_dir, text, budget_kib):
    """The widget files the page loads, and their total size against the budget."""
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
    files = [s for s in sources if Path(s).name in WIDGET_FILES]
    total = sum((html_dir / f).stat().st_size for f in files if (html_dir / f).is_file())
    missing = [f for f in files if not (html_dir / f).is_file()]
    problems = [f"loads {f}, which is not in the docs folder" for f in missing]
    if total > budget_kib * 1024:
        problems.append(f"its widget scripts ({', '.join(files)}) total {total / 1024:.0f} KiB; "
                        f"expected at most {budget_kib} KiB per page")
    return problems, total


def without_javascript(text):
    """What a reader with JavaScript off sees: the page's own HTML, <noscript> shown. Chromium
    cannot dump a page with scripting disabled, and needs not: without scripts nothing changes
    the HTML. The widget's placeholder must say it needs JavaScript, and the page keep its
    static example (the worked example's code and output, or the lab's figures)."""
    problems = []
    widget = re.search(r'<div class="attn-widget"[^>]*>(.*?)</div>', text, flags=re.S)
    if not widget:
        problems.append("the widget's placeholder <div class=\"attn-widget\"> is missing")
    elif not re.search(r"<noscript>.*needs JavaScript.*</noscript>", widget.group(1), flags=re.S):
        problems.append("with JavaScript off the widget does not say that it needs JavaScript (no <noscript> note)")
    # The page's own content (div.contents), without the widget: a code fragment (the worked
    # example and its printed output) or a figure (the lab's). Doxygen's footer logo does not count.
    contents = text[text.find('<div class="contents">'):]
    if widget:
        contents = contents.replace(widget.group(0), "")
    if not re.search(r'class="fragment"|<div class="image">', contents):
        problems.append("with JavaScript off the page has no static example (no code fragment, no figure "
                        "in its contents)")
    return problems


def run_page(chromium, workdir, html_dir, page):
    text = (html_dir / f"{page}.html").read_text(encoding="utf-8")
    probe = PROBE.replace("{base}", html_dir.resolve().as_uri() + "/").replace("{record}", str(RECORD_NUMBERS))
    copy = re.sub(r"<head>", lambda _: "<head>" + probe, text, count=1)
    copy = copy.replace('<script src="widgets.js"></script>',
                        '<script src="widgets.js"></script><script>attnProbeParsed();</script>', 1)
    path = workdir / f"{page}.html"
    path.write_text(copy, encoding="utf-8")
    dom = run_chromium(chromium, workdir / "profile",
                       [f"--virtual-time-budget={BUDGET_MS}", "--window-size=1280,900", "--dump-dom", path.as_uri()])
    found = re.search(r'<pre id="attn-probe">(.*?)</pre>', dom, flags=re.S)
    if not found:
        return None
    return json.loads(html.unescape(found.group(1)))


def check_controls(result):
    problems = []
    if result.get("fatal"):
        return [result["fatal"]] + result.get("errors", [])
    problems += [f"reached the console: {e}" for e in result.get("errors", [])]
    widgets = result.get("widgets", [])
    if not widgets:
        problems.append("no widget on the page")
    parsed = result.get("parsed", [])
    for at, w in enumerate(widgets):
        name = w["widget"]
        if not w["ready"]:
            problems.append(f"widget '{name}' never started" + (f": {w['error']}" if w.get("error") else ""))
            continue
        if "\u2026" in w["text"]:
            problems.append(f"widget '{name}' still shows a placeholder (\u2026) once running")
        if at < len(parsed):
            first = parsed[at]
            if "\u2026" in first["text"]:
                problems.append(f"widget '{name}' had no numbers yet when the parser passed it; expected them at once "
                                "(the module compiles synchronously)")
            if abs(first["height"] - w["height"]) > 0.5:
                problems.append(f"widget '{name}' changed height from {first['height']:.0f} px to {w['height']:.0f} px "
                                f"at its width of {w['width']:.0f} px once running (a layout shift); "
                                "expected the same height")
        else:
            problems.append(f"widget '{name}' was not there when widgets.js had run")
        if not w["controls"]:
            problems.append(f"widget '{name}' has no controls")
        for c in w["controls"]:
            if not c["named"]:
                problems.append(f"widget '{name}': {c['control']} has no label (label for=, aria-label or text)")
            if not c["focusable"]:
                problems.append(f"widget '{name}': {c['control']} cannot take keyboard focus")
            if not c["changed"]:
                problems.append(f"widget '{name}': {c['control']} {c['move']} and no output changed; "
                                "expected every control to change what the widget shows")
    return problems


def encode(calls):
    lines = []
    for c in calls:
        words = [c["fn"]]
        for arg in c["args"]:
            values = arg if isinstance(arg, list) else [arg]
            words.append(str(len(values)))
            words += [str(v) for v in values]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def check_equal(calls, oracle):
    """Replays the browser's calls natively; every result within its bound."""
    if not calls:
        return ["the widgets made no call of the answer key"], 0
    done = subprocess.run([str(oracle)], input=encode(calls), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return [f"{oracle} exited with {done.returncode}: {done.stderr.strip()}"], 0
    lines = done.stdout.strip().split("\n")
    if len(lines) != len(calls):
        return [f"{oracle} answered {len(lines)} of {len(calls)} calls"], 0
    problems, compared = [], 0
    for c, line in zip(calls, lines):
        fields = line.split()
        count = int(fields[0])
        native = [(float(fields[1 + 2 * i]), float(fields[2 + 2 * i])) for i in range(count)]
        out = c["out"] if isinstance(c["out"], list) else [c["out"]]
        if len(out) != count:
            problems.append(f"{c['fn']}: the browser gave {len(out)} results, the native build {count}")
            continue
        for i, ((want, bound), got) in enumerate(zip(native, map(float, out))):
            compared += 1
            if math.isnan(bound) or bound < 0:
                problems.append(f"{c['fn']} result {i}: the native oracle gave the bound {bound!r}; expected a "
                                "number >= 0 (a defect of attn_widget_oracle or tolerances.hpp, not of the browser)")
                continue
            if math.isnan(want) or math.isinf(want) or math.isnan(got) or math.isinf(got):
                same = (math.isnan(want) and math.isnan(got)) or want == got
                ok = same
            else:
                ok = abs(got - want) <= bound
            if not ok and len(problems) < 20:
                args = json.dumps(c["args"])[:200]
                problems.append(f"{c['fn']}({args}) result {i}: browser {got!r}, native {want!r}, "
                                f"difference {abs(got - want) if math.isfinite(got - want) else 'not finite'}; "
                                f"expected within {bound:.3g} (two implementations' bound)")
    return problems, compared


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", required=True, type=Path, help="the docs' html directory")
    ap.add_argument("--pages", required=True, help="comma-separated pages with a widget")
    ap.add_argument("--check", choices=("controls", "equal"), required=True)
    ap.add_argument("--oracle", type=Path, help="attn_widget_oracle (for --check equal)")
    ap.add_argument("--budget-kib", type=int, default=300, help="widget scripts per page, KiB (default 300)")
    args = ap.parse_args()
    if args.check == "equal" and not args.oracle:
        ap.error("--check equal needs --oracle")

    chromium = find_chromium()
    if not chromium:
        print("docs.widgets: SKIPPED: no Chromium found; install it with 'sudo apt-get install chromium' "
              "(scripts/install-deps.sh full); CI installs it.")
        return SKIP
    html_dir = args.html.resolve()
    if not [p for p in args.pages.split(",") if p]:
        print("docs.widgets: no pages given; expected the pages that place a widget")
        return 1
    failures, compared_total, calls_total, skipped_total = 0, 0, 0, 0
    with tempfile.TemporaryDirectory(prefix="attn-widgets-") as tmp:
        workdir = Path(tmp)
        for page in [p for p in args.pages.split(",") if p]:
            source = html_dir / f"{page}.html"
            if not source.is_file():
                print(f"FAIL {page}.html: {source} does not exist")
                failures += 1
                continue
            problems, detail = [], ""
            try:
                result = run_page(chromium, workdir, html_dir, page)
                if result is None:
                    problems.append("the probe never reported (the page did not finish loading in "
                                    f"{int(BUDGET_MS) // 1000} s of virtual time)")
                elif args.check == "controls":
                    budget_problems, size = page_budget(html_dir, source.read_text(encoding="utf-8"), args.budget_kib)
                    problems += budget_problems
                    problems += check_controls(result)
                    problems += without_javascript(source.read_text(encoding="utf-8"))
                    moved = sum(len(w["controls"]) for w in result.get("widgets", []))
                    detail = f"{moved} controls moved, {size / 1024:.0f} KiB of widget scripts"
                else:
                    calls = result.get("calls", [])
                    calls_total += len(calls)
                    skipped_total += result.get("skipped", 0)
                    equal_problems, compared = check_equal(calls, args.oracle.resolve())
                    problems += equal_problems
                    compared_total += compared
                    detail = f"{len(calls)} calls, {compared} results equal within their bounds"
                    if result.get("skipped"):
                        detail += f"; {result['skipped']} later calls not recorded (over {RECORD_NUMBERS} numbers)"
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                problems.append(f"Chromium failed: {e}")
            failures += report(page, problems, detail)
    if failures:
        print(f"docs.widgets.{args.check}: {failures} page(s) failed")
        return 1
    if args.check == "controls":
        print("docs.widgets.controls: every widget starts, holds its size, labels its controls and "
              "answers each of them, without a console error")
    else:
        print(f"docs.widgets.equal: {compared_total} results of {calls_total} calls in the browser "
              f"equal the native answer key's within the tests' bounds ({skipped_total} calls over the "
              "recording cap not compared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
