#!/usr/bin/env python3
"""Opens the built docs in headless Chromium and checks what a reader would see.

    check_browser.py --html <docs/html> --pages index,step1_dot,... [--widths 1280,390] \
                     [--screenshot-page step5_shift_invariance --screenshot <out.png>]

For every page: MathJax ran and rendered every formula (MathJax output present, no raw TeX
left, no MathJax error), every image loaded, and every internal link points to an existing
file and anchor. Then its layout, at each of --widths (a desktop and a phone by default): no
display formula, figure, table, code block or live widget runs past its column or overlaps
the table of contents (each scrolled into view, since the table of contents is sticky); a
formula, table or code block too wide for a phone scrolls inside its column, a widget fits
it; and the page never scrolls sideways. One page is also saved as a screenshot (the CI artifact).

Exit codes: 0 pass, 1 a check failed, 77 Chromium is not installed (ctest SKIP_RETURN_CODE).
Only the Python standard library is needed.
"""
import argparse
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

SKIP = 77
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# As root (CI containers) Chromium needs --no-sandbox, and a small /dev/shm needs
# --disable-dev-shm-usage; the rest keeps it quiet and offline.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                  "--allow-file-access-from-files"]
BUDGET_MS = "15000"  # virtual time for MathJax to typeset; idle pages finish early

# Injected into a copy of each page: records, in attributes of <html> that --dump-dom shows,
# whether MathJax finished, how many formulas it rendered, and which images failed to load.
PROBE = """
<base href="{base}">
<script type="text/x-mathjax-config">
MathJax.Hub.Register.StartupHook("End", function () {{
  document.documentElement.setAttribute("data-attn-mathjax", "done");
}});
MathJax.Hub.Register.MessageHook("Math Processing Error", function (m) {{
  document.documentElement.setAttribute("data-attn-mathjax-error", String(m[2] || m[1]));
}});
MathJax.Hub.Register.MessageHook("TeX Jax - parse error", function (m) {{
  document.documentElement.setAttribute("data-attn-mathjax-error", "TeX error " + String(m[1]) + " in " + String(m[2]));
}});
MathJax.Hub.Register.MessageHook("file load error", function (m) {{
  document.documentElement.setAttribute("data-attn-mathjax-error", "could not load " + m[1]);
}});
</script>
<script>
window.addEventListener("load", function () {{
  var broken = [];
  for (var i = 0; i < document.images.length; i++) {{
    var img = document.images[i];
    if (!(img.complete && img.naturalWidth > 0)) broken.push(img.getAttribute("src"));
  }}
  document.documentElement.setAttribute("data-attn-images", String(document.images.length));
  document.documentElement.setAttribute("data-attn-broken-images", broken.join(" "));
}});
</script>
"""


def around(html, at, before, after):
    """The page's text from `before` characters before `at` to `after` characters after it,
    without tags and with white space folded: the place a problem is at, for its message."""
    piece = html[max(0, at - before):at + after]
    piece = re.sub(r"^[^<]*?>", "", piece) if at - before > 0 else piece  # a tag cut in half
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*(>|$)", "", piece))


def find_chromium():
    override = os.environ.get("ATTN_CHROMIUM")
    if override:
        return override if shutil.which(override) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, profile, args, timeout=120):
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


class Links(html.parser.HTMLParser):
    """Collects hrefs, image sources and anchor names of one HTML document."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.anchors.add(a["id"])
        if tag == "a" and a.get("name"):
            self.anchors.add(a["name"])
        if tag in ("a", "area") and a.get("href"):
            self.hrefs.append(a["href"])


def parse(text):
    p = Links()
    p.feed(text)
    return p


def check_links(page, dom, html_dir, anchor_cache):
    """Every relative link of the rendered page resolves to a file and, if any, an anchor."""
    problems = []
    for href in parse(dom).hrefs:
        url = urllib.parse.urlsplit(href)
        if url.scheme in ("http", "https", "mailto", "javascript") or url.netloc:
            continue  # external: not needed offline, and not ours to check
        if url.scheme == "file":
            target = Path(urllib.parse.unquote(url.path))
        elif url.path:
            target = (html_dir / urllib.parse.unquote(url.path)).resolve()
        else:
            target = (html_dir / f"{page}.html").resolve()
        if not target.is_file():
            problems.append(f"link '{href}' points to {target}, which does not exist")
            continue
        if url.fragment and target.suffix == ".html":
            if target not in anchor_cache:
                anchor_cache[target] = parse(target.read_text(encoding="utf-8", errors="replace")).anchors
            if url.fragment not in anchor_cache[target]:
                problems.append(f"link '{href}': {target.name} has no anchor '{url.fragment}'")
    return problems


def check_page(chromium, html_dir, page, workdir, anchor_cache):
    source = html_dir / f"{page}.html"
    if not source.is_file():
        return [f"{source} does not exist"], ""
    text = source.read_text(encoding="utf-8")
    base = html_dir.resolve().as_uri() + "/"
    probe = PROBE.format(base=base)
    # The probe goes into a copy outside the docs, right after <head>; <base> makes every
    # relative URL (MathJax, images, links) resolve against the real docs directory.
    copy = workdir / f"{page}.html"
    copy.write_text(re.sub(r"<head>", "<head>" + probe, text, count=1), encoding="utf-8")
    dom = run_chromium(chromium, workdir / "profile", [f"--virtual-time-budget={BUDGET_MS}", "--dump-dom",
                                                       copy.as_uri()])
    problems = []
    root = re.search(r"<html[^>]*>", dom)
    attrs = dict(re.findall(r'(data-attn-[\w-]+)="([^"]*)"', root.group(0) if root else ""))

    # Formulas: Doxygen writes \( \) and \[ \] for MathJax; after typesetting each is a
    # MathJax element and its TeX sits only inside <script type="math/tex">.
    has_math = "\\f$" in text or "\\(" in text or "\\[" in text or 'class="formulaDsp"' in text
    if has_math:
        if attrs.get("data-attn-mathjax") != "done":
            problems.append("MathJax did not finish typesetting (is mathjax/ next to the HTML?)")
        rendered = len(re.findall(r'class="MathJax(?:_Display)?"', dom))
        if rendered == 0:
            problems.append("no MathJax output in the page: the formulas were not rendered")
        if attrs.get("data-attn-mathjax-error"):
            problems.append(f"MathJax error: {attrs['data-attn-mathjax-error']}")
    visible = re.sub(r"<script\b.*?</script>", "", dom, flags=re.S)
    visible = re.sub(r'data-attn-[\w-]+="[^"]*"', "", visible)  # the probe's own notes
    if has_math and "Math Processing Error" in visible:
        problems.append("MathJax shows 'Math Processing Error'")
    # A TeX error (an undefined macro, an unknown environment) is typeset as red text in an
    # element of class merror instead of the formula; the parse-error hook above names the
    # first one, this finds it when the hook did not fire.
    merror = re.search(r'class="[^"]*\bmerror\b[^"]*"[^>]*>', visible)
    if has_math and merror and not attrs.get("data-attn-mathjax-error"):
        problems.append(f"MathJax shows a TeX error instead of a formula: ...{around(visible, merror.end(), 0, 120)}...")
    # Doxygen's placeholder for a formula it could not place (e.g. one inside "quotes").
    placeholder = "\\_form#"
    if placeholder in visible:
        problems.append(f"a Doxygen formula placeholder {placeholder} is left in the page: "
                        f"...{around(visible, visible.index(placeholder), 60, 20)}...")
    visible = re.sub(r"<(pre|code)\b.*?</\1>", "", visible, flags=re.S)  # code may say \f$ on purpose
    for raw in ("\\f$", "\\f[", "\\f]", "\\(", "\\)", "\\[", "\\]", "\\begin{"):
        if raw in visible:
            problems.append(f"raw TeX '{raw}' left in the page: ...{around(visible, visible.index(raw), 80, 80)}...")
            break

    # Images: the probe reports any <img> that did not load.
    if "data-attn-images" not in attrs:
        problems.append("the page's load event never fired (images not checked)")
    elif attrs.get("data-attn-broken-images"):
        problems.append(f"images that did not load: {attrs['data-attn-broken-images']}")

    problems += check_links(page, dom, html_dir, anchor_cache)
    formulas = len(re.findall(r'class="MathJax(?:_Display)?"', dom))
    return problems, f"{formulas} formulas, {attrs.get('data-attn-images', '?')} images"


# The layout probe, run inside an <iframe> of the width under test (headless Chromium's window
# is at least 500 px wide; a frame can be a phone's 390). Once MathJax has typeset the page
# (and any live widget is running) it measures, and posts the problems to the host page.
LAYOUT_PROBE = r"""
<base href="{base}">
<script>
function attnLayoutProblems() {
  var out = [];
  var contents = document.querySelector("div.contents");
  if (!contents) return ["the page has no div.contents"];
  var cs = getComputedStyle(contents), cr = contents.getBoundingClientRect();
  var left = cr.left + parseFloat(cs.paddingLeft), right = cr.right - parseFloat(cs.paddingRight);
  var toc = contents.querySelector("div.toc");
  // With Doxygen's side bar (GENERATE_TREEVIEW) the page scrolls inside #doc-content, not the
  // window: scroll that, and look for sideways overflow there.
  var doc = document.getElementById("doc-content");
  var scroller = doc && doc.scrollHeight > doc.clientHeight + 1 ? doc : document.scrollingElement;
  var items = contents.querySelectorAll(".formulaDsp, div.image, div.fragment, pre.fragment, table, .attn-widget");
  for (var i = 0; i < items.length; i++) {
    var el = items[i];
    if (toc && toc.contains(el)) continue;
    var widget = el.closest(".attn-widget");
    if (widget && widget !== el) continue;                      // inside a widget: the widget counts
    if (el.tagName === "TABLE" && el.parentElement.closest("table, div.fragment")) continue;
    var top = el.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    scroller.scrollTop = Math.max(0, top - 200);
    var r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    var what = (el.classList.contains("formulaDsp") ? "display formula" : el.classList.contains("image") ? "figure" :
                el.classList.contains("fragment") ? "code block" : el.classList.contains("attn-widget") ? "live widget" : "table") +
               " at y = " + Math.round(top) + " px (\"" + el.textContent.replace(/\s+/g, " ").trim().slice(0, 40) + "\")";
    // Code blocks may bleed to the window's edges on a phone (the theme's choice); the rest
    // stays inside the text column.
    var lo = el.classList.contains("fragment") ? 0 : left, hi = el.classList.contains("fragment") ? window.innerWidth : right;
    if (r.left < lo - 1 || r.right > hi + 1) {
      out.push(what + " spans " + Math.round(r.left) + "-" + Math.round(r.right) + " px, past its column " +
               Math.round(lo) + "-" + Math.round(hi) + " px");
    }
    // A formula, a table or code too wide for a phone may scroll inside its column; a widget's
    // controls and outputs must fit it.
    var ox = getComputedStyle(el).overflowX, wide = el.scrollWidth > el.clientWidth + 1;
    if (wide && el.classList.contains("attn-widget")) {
      out.push(what + " is " + el.scrollWidth + " px wide inside, in " + el.clientWidth + " px: its controls and outputs must fit");
    } else if (wide && ox !== "auto" && ox !== "scroll") {
      out.push(what + " holds content " + el.scrollWidth + " px wide in " + el.clientWidth + " px without scrolling it");
    }
    if (toc && getComputedStyle(toc).display !== "none") {
      var t = toc.getBoundingClientRect();
      if (t.width > 0 && r.left < t.right - 1 && t.left < r.right - 1 && r.top < t.bottom - 1 && t.top < r.bottom - 1) {
        out.push(what + " runs under the table of contents (" + Math.round(r.left) + "-" + Math.round(r.right) +
                 " px against its " + Math.round(t.left) + "-" + Math.round(t.right) + " px)");
      }
    }
  }
  scroller.scrollTop = 0;
  [document.scrollingElement, doc].forEach(function (box) {
    if (box && box.scrollWidth > box.clientWidth + 1) {
      out.push("the page is " + box.scrollWidth + " px wide in " + box.clientWidth + " px" +
               (box === doc ? " of #doc-content" : " of the window") + ": it scrolls sideways");
    }
  });
  if (scroller.scrollHeight <= scroller.clientHeight + 1 && contents.getBoundingClientRect().height > window.innerHeight) {
    out.push("found nothing that scrolls the page (neither #doc-content nor the window), so the table of " +
             "contents was not checked beside the lower part of the page");
  }
  return out;
}
var attnLayoutDone = false;
function attnLayoutReport() {
  if (attnLayoutDone) return;
  attnLayoutDone = true;
  var widgets = window.AttnWidgets ? window.AttnWidgets.ready : Promise.resolve();
  widgets.then(function () {}, function () {}).then(function () {
    setTimeout(function () {
      parent.postMessage(JSON.stringify({width: window.innerWidth, problems: attnLayoutProblems()}), "*");
    }, 200);
  });
}
// Measured once MathJax has typeset the page; a page without MathJax, some seconds after load.
window.addEventListener("load", function () {
  if (!window.MathJax || !window.MathJax.Hub) setTimeout(attnLayoutReport, 500);
  else setTimeout(attnLayoutReport, 12000);
});
</script>
<script type="text/x-mathjax-config">
MathJax.Hub.Register.StartupHook("End", attnLayoutReport);
</script>
"""

LAYOUT_HOST = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe src="{page}" style="width:{width}px;height:900px;border:0"></iframe>
<script>
window.addEventListener("message", function (e) {{
  var pre = document.createElement("pre");
  pre.id = "attn-layout";
  pre.textContent = e.data;
  document.body.appendChild(pre);
}});
</script></body></html>
"""


def check_layout(chromium, html_dir, page, workdir, widths):
    """The page's layout at each width, measured in a frame of that width."""
    text = (html_dir / f"{page}.html").read_text(encoding="utf-8")
    probe = LAYOUT_PROBE.replace("{base}", html_dir.resolve().as_uri() + "/")
    copy = workdir / f"{page}.layout.html"
    copy.write_text(re.sub(r"<head>", lambda _: "<head>" + probe, text, count=1), encoding="utf-8")
    problems = []
    for width in widths:
        host = workdir / f"{page}.layout{width}.host.html"
        host.write_text(LAYOUT_HOST.format(page=copy.name, width=width), encoding="utf-8")
        dom = run_chromium(chromium, workdir / "profile", [f"--virtual-time-budget={BUDGET_MS}",
                                                           f"--window-size={max(width, 500) + 20},900",
                                                           "--dump-dom", host.as_uri()])
        found = re.search(r'<pre id="attn-layout">(.*?)</pre>', dom, flags=re.S)
        if not found:
            problems.append(f"at {width} px the layout was never measured (the page did not finish typesetting)")
            continue
        result = json.loads(html.unescape(found.group(1)))
        problems += [f"at {width} px: {p}" for p in result["problems"]]
    return problems


def report(page, problems, detail):
    """Prints one page's verdict (FAIL and its problems, or ok and the detail); 1 if it failed."""
    if problems:
        print(f"FAIL {page}.html")
        for p in problems:
            print(f"     {p}")
        return 1
    print(f"ok   {page}.html ({detail})")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", required=True, type=Path, help="the docs' html directory")
    ap.add_argument("--pages", required=True, help="comma-separated page names, e.g. index,step1_dot")
    ap.add_argument("--widths", default="1280,390",
                    help="window widths for the layout check, px (default 1280,390: a desktop and a phone)")
    ap.add_argument("--screenshot-page", help="page to save as a screenshot")
    ap.add_argument("--screenshot", type=Path, help="where to save the screenshot (PNG)")
    args = ap.parse_args()

    chromium = find_chromium()
    if not chromium:
        print("docs.browser: SKIPPED: no Chromium found (looked for " + ", ".join(CHROMIUM_NAMES) +
              "; set ATTN_CHROMIUM to another binary). Install it with 'sudo apt-get install chromium' "
              "or scripts/install-deps.sh full; CI installs it.")
        return SKIP
    html_dir = args.html.resolve()
    if not (html_dir / "index.html").is_file():
        print(f"docs.browser: {html_dir}/index.html is missing; build the 'docs' target first")
        return 1

    try:
        widths = [int(w) for w in args.widths.split(",") if w]
    except ValueError:
        ap.error(f"--widths '{args.widths}': expected widths in px such as 1280,390")
    failures = 0
    anchor_cache = {}
    with tempfile.TemporaryDirectory(prefix="attn-docs-browser-") as tmp:
        workdir = Path(tmp)
        for page in [p for p in args.pages.split(",") if p]:
            try:
                result = check_page(chromium, html_dir, page, workdir, anchor_cache)
                if (html_dir / f"{page}.html").is_file():
                    result = (result[0] + check_layout(chromium, html_dir, page, workdir, widths), result[1])
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                result = ([f"Chromium failed: {e}"], "")
            problems, counts = result
            failures += report(page, problems, f"{counts}; layout at {args.widths} px")

        if args.screenshot_page and args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page = html_dir / f"{args.screenshot_page}.html"
            try:
                run_chromium(chromium, workdir / "profile", [f"--virtual-time-budget={BUDGET_MS}",
                                                             "--window-size=1280,2400",
                                                             f"--screenshot={args.screenshot.resolve()}",
                                                             page.as_uri()])
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"FAIL screenshot of {page.name}: {e}")
                failures += 1
            if args.screenshot.is_file() and args.screenshot.stat().st_size > 0:
                print(f"screenshot: {args.screenshot}")
            else:
                print(f"FAIL screenshot of {page.name}: {args.screenshot} was not written")
                failures += 1

    if failures:
        print(f"docs.browser: {failures} problem page(s); expected every formula rendered, every image "
              "loaded, every internal link resolved and nothing past its column or under the table of contents")
        return 1
    print("docs.browser: every page renders its formulas, loads its images, resolves its links and keeps "
          f"its formulas, figures, tables, code and widgets in their column at {args.widths} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
