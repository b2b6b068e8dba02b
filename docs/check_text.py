#!/usr/bin/env python3
"""Checks the course's teaching text: every quoted number and every citation.

    python3 docs/check_text.py [--root DIR]     check the text (the docs build runs this)
    python3 docs/check_text.py --self-test      prove that the check fails on a wrong
                                                digit, an undeclared number and an
                                                unknown citation (ctest docs.text.catches)

The teaching text is what a student or reader reads: the docs pages (docs/*.md except the
bibliography, references.md), the stubs' comments (exercises/), the hints (course/hints/),
the mistake catalogue's strings (course/mistakes/, shown in reports and on the step pages)
and the contract's comments (contract/include/attn/, shown in the docs).

**Numbers.** A number in that text with a decimal point or a decimal exponent (0.2447,
1.1e-7, -1.0; an `f` suffix is ignored) is either printed by a program at docs build time
(the worked examples are included from their output, so they are not in the text at all) or
declared in course/numbers/, one table per step (step<n>.md) and one for the pages that
belong to no step (general.md):

    | quoted   | how     | value                 | where          |
    |----------|---------|-----------------------|----------------|
    | 1.503215 | rounded | 1 + exp(-2) + exp(-1) | page stub hint |

`how` says what the quoted digits are, and the check recomputes each in 60-digit decimal
arithmetic (Python's decimal module: independent of the course's C++):
  rounded    the value correctly rounded at the quoted last digit (on an exact tie, either
             neighbour);
  truncated  the value cut off at the quoted last digit (say so in the text too);
  exact      the value is exactly the quoted decimal;
  input      data the text gives rather than computes (the cards' vectors): the value
             column is empty, the number must be exactly representable in float, and it
             must appear as a literal in the step's tests or worked example, so the text
             quotes the data the code uses;
  fact       not mathematics (a version, a measured figure): the value column says what
             it is; nothing to recompute, but it is declared on purpose.
  let        the quoted column is a name, usable in later values of the same table.
A number written \\times 10^{k} is declared as <digits>e<k>. `value` is an expression: numbers, + - * / **, parentheses, names defined by `let`, the
constants e, pi, u (2^-24, float's unit roundoff), FLT_EPSILON, FLT_MAX, FLT_MIN (the
smallest normal float), FP16_MAX (65504), and the functions exp, ln, log2, log10, sqrt,
abs, min, max, f32 (round to the nearest float). `where` lists the files the number is
quoted in: page, stub, hint, catalogue (the step's own files) or paths relative to the
repository. A declaration that no listed file quotes is an error too, so the tables stay
true when the text changes.

Integers are not covered: in this text they are sizes, counts, indices and step numbers,
and the worked examples print the computed ones.

**Citations.** An author-year citation in the teaching text ("Zhai et al. (2023)",
"Blanchard, Higham and Higham (2021)", "Press, Smith and Lewis 2022", "Higham 2002") must have
its entry in docs/references.md: an anchor ref_<first author's surname><year>; "et al."
without a year is an error too, and so is a file that names a method after its paper
(FlashAttention, ALiBi: NAMED_WORKS below) without citing that paper.

Every failure names the file, the line, what is wrong and what is expected.
"""
import argparse
import ast
import json
import re
import shutil
import sys
import tempfile
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, getcontext, localcontext
from pathlib import Path

getcontext().prec = 60

# ------------------------------------------------------------------------------- the text

def step_files(root, step):
    """The teaching files of one step of the manifest, by their short names."""
    n, slug = step["number"], step["slug"]
    return {
        "page": f"docs/step{n}_{slug}.md",
        "stub": f"exercises/{step['file']}",
        "hint": f"course/hints/step{n}.md",
        "catalogue": f"course/mistakes/step{n}_{slug}.cpp",
    }


def teaching_files(root):
    """Every teaching file, relative to root, with the table that declares its numbers."""
    manifest = json.loads((root / "course/steps.json").read_text())
    files = {}  # path -> table
    for step in manifest["steps"]:
        table = f"course/numbers/step{step['number']}.md"
        for path in step_files(root, step).values():
            if (root / path).exists():
                files[path] = table
    general = "course/numbers/general.md"
    for page in sorted((root / "docs").glob("*.md")):
        path = page.relative_to(root).as_posix()
        if path not in files and page.name != "references.md":
            files[path] = general
    for header in sorted((root / "contract/include/attn").glob("*.hpp")):
        files[header.relative_to(root).as_posix()] = general
    return manifest, files


def markdown_prose(text):
    """The lines of a page a reader reads as prose or formulas: code blocks, included
    files, image lines, HTML comments and link targets are blanked (line numbers kept)."""
    out, fenced, code = [], False, False
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        if re.match(r"\\(code|verbatim)\b", stripped):
            code = True
        if fenced or code or re.match(r"\\(include|includedoc|verbinclude|snippet|image|dontinclude)\b", stripped):
            if re.match(r"\\(endcode|endverbatim)\b", stripped):
                code = False
            out.append("")
            continue
        line = re.sub(r"\]\([^)]*\)", "]()", line)          # link targets
        line = re.sub(r"https?://\S+", "", line)             # bare links
        line = re.sub(r"\{#[\w-]+\}", "", line)              # page anchors
        out.append(line)
    return out


def cpp_comments(text):
    """Comments of a C++ file, line by line (code blanked)."""
    out = []
    in_block = False
    for line in text.split("\n"):
        kept = ""
        i = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    kept += line[i:]
                    i = len(line)
                else:
                    kept += line[i:end]
                    i = end + 2
                    in_block = False
                continue
            m = re.compile(r'"(?:\\.|[^"\\])*"|//|/\*').search(line, i)
            if not m:
                break
            if m.group(0) == "//":
                kept += line[m.end():]
                break
            if m.group(0) == "/*":
                in_block = True
                i = m.end()
                continue
            i = m.end()  # a string literal: code, skipped
        out.append(kept)
    return out


def cpp_strings(text):
    """The string literals of a C++ file (the catalogue's texts), line by line."""
    out = []
    for line in text.split("\n"):
        code = re.sub(r"//.*", "", line)
        out.append(" ; ".join(bytes(s, "utf-8").decode("unicode_escape", errors="replace")
                            if "\\" in s else s
                            for s in re.findall(r'"((?:\\.|[^"\\])*)"', code)))
    return out


def prose_lines(path, text):
    if path.endswith(".md"):
        return markdown_prose(text)
    if path.startswith("course/mistakes/"):
        return cpp_strings(text)
    return cpp_comments(text)


NUMBER = re.compile(
    r"(?<![\w.§^])"                              # not inside a word, a number or a section
    r"(?P<sign>[-\u2212](?=\d))?"
    r"(?P<num>\d+\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)"
    r"(?:\s*(?:\\times|\u00d7)\s*10\^\{?(?P<power>[-\u2212]?\d+)\}?)?"   # 9.08 \times 10^{-5}
    r"[fF]?(?![\w]|\.\d)")


def numbers_in(line):
    """(quoted, column) of every number in a line. A minus sign belongs to the number when it
    touches the digits and does not touch an operand before it: '(-1.5)', '= -1.0' and the
    matrix row '0.0819 -0.0220' quote negative numbers, '2.0 - 0.5' and 'x-0.5' quote 0.5.
    '9.08 \\times 10^{-5}' is quoted as 9.08e-5."""
    found = []
    for m in NUMBER.finditer(line):
        sign = ""
        if m.group("sign") and (m.start() == 0 or not re.match(r"[\w)\]}.]", line[m.start() - 1])):
            sign = "-"
        num = m.group("num")
        if m.group("power"):
            num += "e" + m.group("power").replace("\u2212", "-")
        found.append((sign + num, m.start() + 1))
    return found


# ----------------------------------------------------------------------------- the tables

def read_table(root, table):
    """Rows of a declaration table: dicts with quoted, how, value, where, line."""
    rows = []
    path = root / table
    if not path.exists():
        return rows
    for lineno, line in enumerate(path.read_text().split("\n"), 1):
        if not line.startswith("|") or re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:2] == ["quoted", "how"]:
            continue
        if len(cells) != 4:
            raise SystemExit(f"{table}:{lineno}: a row has {len(cells)} cells; expected 4: "
                             "| quoted | how | value | where |")
        quoted, how, value, where = cells
        rows.append({"quoted": quoted.replace("\\|", "|"), "how": how, "value": value,
                     "where": where.split(), "line": lineno, "table": table})
    return rows


def two_pow(n):
    return Decimal(2) ** n


def f32(x):
    """x rounded to the nearest binary32 float (ties to even), exactly, in Decimal."""
    x = Decimal(x)
    if x == 0 or not x.is_finite():
        return x
    sign = -1 if x < 0 else 1
    a = abs(x)
    e = int((a.ln() / Decimal(2).ln()).to_integral_value(rounding=ROUND_DOWN))
    while two_pow(e) > a:
        e -= 1
    while two_pow(e + 1) <= a:
        e += 1
    e = max(e, -126)
    quantum = two_pow(e - 23)
    m = (a / quantum).to_integral_value(rounding=ROUND_HALF_EVEN)
    r = m * quantum
    if r > FLT_MAX:
        return Decimal("Infinity") * sign
    return r * sign


def pi():
    with localcontext() as ctx:
        ctx.prec += 10
        def arctan_inv(k):  # arctan(1/k)
            x = Decimal(1) / k
            total, term, n, k2 = x, x, 1, Decimal(k) * k
            while True:
                term = -term / k2
                n += 2
                nxt = total + term / n
                if nxt == total:
                    return total
                total = nxt
        value = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    return +value


FLT_MAX = (2 - two_pow(-23)) * two_pow(127)
CONSTANTS = {
    "e": Decimal(1).exp(), "pi": pi(), "u": two_pow(-24), "FLT_EPSILON": two_pow(-23),
    "FLT_MAX": FLT_MAX, "FLT_MIN": two_pow(-126), "FP16_MAX": Decimal(65504),
}
FUNCTIONS = {
    "exp": lambda x: Decimal(x).exp(), "ln": lambda x: Decimal(x).ln(),
    "log2": lambda x: Decimal(x).ln() / Decimal(2).ln(), "log10": lambda x: Decimal(x).log10(),
    "sqrt": lambda x: Decimal(x).sqrt(), "abs": lambda x: abs(Decimal(x)),
    "min": lambda *x: min(Decimal(v) for v in x), "max": lambda *x: max(Decimal(v) for v in x),
    "f32": f32,
}


def evaluate(expression, names):
    """The value of a declaration's expression, in Decimal."""
    tree = ast.parse(expression.replace("^", "**"), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            # the literal's own digits, not the double nearest to them
            return Decimal(ast.get_source_segment(expression.replace("^", "**"), node) or repr(node.value))
        if isinstance(node, ast.Name):
            if node.id in names:
                return names[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise ValueError(f"unknown name '{node.id}'")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.Div: lambda: a / b, ast.Pow: lambda: a ** b}
            for op, f in ops.items():
                if isinstance(node.op, op):
                    return f()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            return FUNCTIONS[node.func.id](*[ev(a) for a in node.args])
        raise ValueError(f"'{ast.dump(node)[:40]}' is not allowed (numbers, + - * / **, "
                         "names, and exp ln log2 log10 sqrt abs min max f32)")

    return +ev(tree)


def quantum_of(quoted):
    """(the quoted value, the unit of its last digit)."""
    q = quoted.lstrip("-")
    mantissa, _, exponent = q.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Decimal(quoted), Decimal(1).scaleb(int(exponent or 0) - decimals)


def check_value(row, value):
    """'' when the quoted digits are what `how` says of value, else the reason."""
    quoted, unit = quantum_of(row["quoted"])
    how = row["how"]
    if how == "exact":
        return "" if value == quoted else f"is not exactly {row['quoted']}"
    if how == "truncated":
        cut = value.quantize(unit, rounding=ROUND_DOWN)
        return "" if cut == quoted else f"cut off at that digit is {cut}"
    if how == "rounded":
        even = value.quantize(unit, rounding=ROUND_HALF_EVEN)
        up = value.quantize(unit, rounding=ROUND_HALF_UP)
        if quoted in (even, up):
            return ""
        hint = " (cut off, not rounded: round it, or declare it 'truncated' if that is meant)" \
            if value.quantize(unit, rounding=ROUND_DOWN) == quoted else ""
        return f"rounds to {even}{hint}"
    return f"has an unknown 'how' '{how}'"


def literal_in(token, texts):
    """Whether token appears as a number literal (optionally with f) in any of texts."""
    pattern = re.compile(r"(?<![\w.])" + re.escape(token.lstrip("-")) + r"[fF]?(?![\w]|\.\d)")
    return any(pattern.search(t) for t in texts)


# ------------------------------------------------------------------------------ the checks

def check_numbers(root, manifest, files):
    failures = []
    by_table = {}
    for path, table in files.items():
        by_table.setdefault(table, []).append(path)
    short = {}  # table -> {short name -> path}
    sources = {}  # table -> texts of tests and worked examples (for inputs)
    for step in manifest["steps"]:
        table = f"course/numbers/step{step['number']}.md"
        short[table] = step_files(root, step)
        n = step["number"]
        texts = [p.read_text() for p in sorted((root / "tests").glob(f"test_step{n}_*.cpp"))]
        texts += [p.read_text() for p in sorted((root / "docs/examples").glob(f"worked_step{n}.cpp"))]
        sources[table] = texts
    all_sources = [t for ts in sources.values() for t in ts]
    all_sources += [p.read_text() for p in sorted((root / "docs/examples").glob("*.cpp"))]

    quoted_in = {}  # (path, quoted) -> first line
    for path in files:
        lines = prose_lines(path, (root / path).read_text())
        for lineno, line in enumerate(lines, 1):
            for quoted, _ in numbers_in(line):
                quoted_in.setdefault((path, quoted), lineno)

    declared = set()
    for table in sorted(set(files.values())):
        names = {}
        for row in read_table(root, table):
            where = f"{table}:{row['line']}"
            if row["how"] == "let":
                try:
                    names[row["quoted"]] = evaluate(row["value"], names)
                except (ValueError, SyntaxError, ArithmeticError) as e:
                    failures.append(f"{where}: let {row['quoted']} = {row['value']}: {e}")
                continue
            paths = []
            for w in row["where"]:
                p = short.get(table, {}).get(w, w)
                if p not in files:
                    failures.append(f"{where}: '{w}' is not a teaching file of this table; expected "
                                    f"one of {', '.join(sorted(short.get(table, {})) or by_table.get(table, []))}")
                    continue
                paths.append(p)
                declared.add((p, row["quoted"]))
                if (p, row["quoted"]) not in quoted_in:
                    failures.append(f"{where}: {row['quoted']} is declared for {p}, which does not "
                                    "quote it; remove the row or fix 'where'")
            if not row["where"]:
                failures.append(f"{where}: {row['quoted']} has no 'where'")
            how = row["how"]
            if how == "fact":
                if not row["value"]:
                    failures.append(f"{where}: {row['quoted']} is a fact; expected the value column to say what it is")
                continue
            if how == "input":
                if row["value"]:
                    failures.append(f"{where}: {row['quoted']} is an input; expected an empty value column")
                value = Decimal(row["quoted"])
                if f32(value) != value:
                    failures.append(f"{where}: the input {row['quoted']} is not exactly a float "
                                    f"(float holds {f32(value)}); declare what it is computed from")
                if not literal_in(row["quoted"], sources.get(table, all_sources) or all_sources):
                    failures.append(f"{where}: the input {row['quoted']} appears in no test or worked "
                                    "example of this step; expected the text to quote the data the code uses")
                continue
            try:
                value = evaluate(row["value"], names)
            except (ValueError, SyntaxError, ArithmeticError, TypeError) as e:
                failures.append(f"{where}: {row['value']}: {e}")
                continue
            reason = check_value(row, value)
            if reason:
                shown = format(value.quantize(Decimal(1).scaleb(value.adjusted() - 11)) if value != 0 else value, "f")
                at = ", ".join(f"{p}:{quoted_in.get((p, row['quoted']), '?')}" for p in paths)
                wanted = {"exact": "the exact value", "truncated": "the value cut off at that digit"}.get(
                    how, "the correctly rounded value")
                failures.append(f"{at}: {row['quoted']} is declared {how} of {row['value']} = "
                                f"{shown}..., which {reason}; expected the text to quote {wanted} "
                                f"({where})")

    for (path, quoted), lineno in sorted(quoted_in.items()):
        if (path, quoted) not in declared:
            table = files[path]
            name = next((k for k, v in short.get(table, {}).items() if v == path), path)
            failures.append(f"{path}:{lineno}: {quoted} is neither printed by a program nor declared; "
                            f"expected a row in {table}: | {quoted} | rounded | <expression> | {name} | "
                            "(or 'input', 'exact', 'truncated', 'fact': see docs/check_text.py)")
    return failures


AUTHOR = r"[A-Z][\w'\u00C0-\u024F-]+"
CITATION = re.compile(
    rf"(?P<first>{AUTHOR})(?:\s+et\s+al\.?|(?:,\s+{AUTHOR})*,?\s+and\s+{AUTHOR})?"
    r"(?:,\s*|\s+)\(?(?P<year>(?:19|20)\d\d)\)?(?![\d])")


# Methods the text names after the paper that introduced them: a file that names one cites it.
NAMED_WORKS = {"FlashAttention": "ref_dao2022", "ALiBi": "ref_press2022"}


def ascii_key(name):
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def check_citations(root, files):
    failures = []
    references = (root / "docs/references.md").read_text()
    anchors = set(re.findall(r"\\anchor\s+(ref_\w+)", references))
    for path in files:
        lines = prose_lines(path, (root / path).read_text())
        # Join lines so a citation broken across a line is still one citation.
        text, starts = "", []
        for line in lines:
            starts.append(len(text))
            text += re.sub(r"^\s*(/+!?|!|\*)\s?", "", line) + " "  # Doxygen's /// and //!
        cited = set()
        for m in CITATION.finditer(text):
            cited.add(m.start())
            key = f"ref_{ascii_key(m.group('first'))}{m.group('year')}"
            if key not in anchors:
                lineno = max(i for i, s in enumerate(starts, 1) if s <= m.start())
                failures.append(f"{path}:{lineno}: the citation '{' '.join(m.group(0).split())}' has no entry "
                                f"in docs/references.md; expected one with \\anchor {key}")
        keys = {f"ref_{ascii_key(m.group('first'))}{m.group('year')}" for m in CITATION.finditer(text)}
        for name, key in NAMED_WORKS.items():
            at = -1 if path.startswith("course/mistakes/") else text.find(name)  # entries are short
            if at >= 0 and key not in keys:
                lineno = max(i for i, s in enumerate(starts, 1) if s <= at)
                failures.append(f"{path}:{lineno}: names {name} but never cites its paper; expected "
                                f"the author-year citation of docs/references.md's \\anchor {key} in this file")
        # "Zhai et al. show": a citation must say which work, with its year.
        for m in re.finditer(rf"(?P<first>{AUTHOR})\s+et\s+al\.?", text):
            if m.start() not in cited:
                lineno = max(i for i, s in enumerate(starts, 1) if s <= m.start())
                failures.append(f"{path}:{lineno}: '{m.group(0)}' cites a work without its year; expected "
                                f"'{m.group(0)} (<year>)' with an entry in docs/references.md")
    return failures


def run(root):
    manifest, files = teaching_files(root)
    failures = check_numbers(root, manifest, files) + check_citations(root, files)
    return failures


# ---------------------------------------------------------------------------- self-test

def self_test(root):
    """The check fails on each kind of error a change could bring in, in a scratch copy."""
    if run(root):
        print("self-test: the text does not pass the check to begin with; run it without --self-test")
        return 1
    manifest, files = teaching_files(root)
    step4 = next(s for s in manifest["steps"] if s["number"] == 4)
    table = "course/numbers/step4.md"
    rows = [r for r in read_table(root, table) if r["how"] == "rounded"]
    if not rows:
        print(f"self-test: {table} has no rounded number to break")
        return 1
    row = rows[0]
    old = row["quoted"]
    new = old[:-1] + str((int(old[-1]) + 1) % 10)
    paths = [step_files(root, step4).get(w, w) for w in row["where"]]

    def wrong_digit(copy):
        # The text quotes a wrong last digit and its declaration was changed to match, as an
        # author would who edits both: only recomputing the value can catch it.
        for path in paths:
            f = copy / path
            f.write_text(re.sub(r"(?<![\w.])" + re.escape(old) + r"(?![\w]|\.\d)", new, f.read_text()))
        t = copy / table
        lines = t.read_text().split("\n")
        lines[row["line"] - 1] = lines[row["line"] - 1].replace(f"| {old} ", f"| {new} ", 1)
        t.write_text("\n".join(lines))

    page = step_files(root, step4)["page"]
    cases = [
        ("a wrong quoted digit", wrong_digit, f"{new} is declared rounded"),
        ("an undeclared number", lambda d: append(d / page, "\nA new claim: 0.12345.\n"),
         "0.12345 is neither printed by a program nor declared"),
        ("a citation without an entry", lambda d: append(d / page, "\nAs Nobody et al. (2031) show.\n"),
         "'Nobody et al. (2031)' has no entry"),
    ]
    status = 0
    for what, inject, expected in cases:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp)
            for part in ("course", "docs", "exercises", "contract", "tests"):
                shutil.copytree(root / part, copy / part)
            inject(copy)
            failures = run(copy)
            if any(expected in f for f in failures):
                print(f"self-test: {what}: caught")
            else:
                print(f"self-test: {what}: NOT caught; expected a failure containing '{expected}', got:\n  "
                      + "\n  ".join(failures or ["(no failure)"]))
                status = 1
    return status


def append(path, text):
    path.write_text(path.read_text() + text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the repository (default: the one holding this script)")
    parser.add_argument("--self-test", action="store_true",
                        help="prove that the check catches a wrong digit, an undeclared number and an unknown citation")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.root)
    failures = run(args.root)
    for f in failures:
        print(f, file=sys.stderr)
    if failures:
        print(f"check_text: {len(failures)} problem(s) in the teaching text (see docs/check_text.py "
              "for the rules)", file=sys.stderr)
        return 1
    manifest, files = teaching_files(args.root)
    print(f"check_text: the numbers and citations of {len(files)} teaching files are declared and right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
