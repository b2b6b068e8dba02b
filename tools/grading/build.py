"""The grading build of the grader (tools/grade.py): one configured build of the exercises
flavour whose exercises folder is a staging folder, into which each submission's step files
are copied in turn; compiling a submission, blaming what does not compile on its step file,
and reading a step file without trusting it."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import stat
from pathlib import Path

import course
from grading.units import SANITIZER_ENV, Judging, Submission, Unit, cut, make_units

COMPILER_LIMIT = 3000   # characters of a compiler's message in a report
STEP_FILE_LIMIT = 256 * 1024  # bytes: a larger step file is refused, not compiled
COMMAND_LINE = re.compile(r"^(: && )?(\S*attn_sandbox --compile -- )?\S*(c\+\+|g\+\+|clang\+\+|cc|ld)(-[\d.]+)?\s.*\s-o\s")  # a build command


GRADING_PRESET = "grading"  # the configure preset in CMakePresets.json


def grading_preset() -> dict:
    """The grading configure preset, as CMakePresets.json has it."""
    presets = json.loads((course.ROOT / "CMakePresets.json").read_text())["configurePresets"]
    found = [p for p in presets if p["name"] == GRADING_PRESET]
    if not found:
        raise RuntimeError(f"CMakePresets.json has no configure preset \"{GRADING_PRESET}\"; "
                           f"the grader configures its build with it")
    return found[0]


class GradingBuild:
    """One configured build of the exercises flavour whose ATTN_EXERCISES_DIR is a staging
    folder, <build>/submission. Each submission's step files are copied there in turn (only
    the step files: the rest of the tree is the instructor's), so grading a class needs no
    reconfiguring and recompiles only the students' files. A step file that does not compile
    is replaced by its untouched stub: it costs that step, and only those tests of later
    steps that call it."""

    def __init__(self, build_dir: Path, hidden_dir: Path | None, sanitize: bool, jobs: int,
                 sandbox: bool = True, only: frozenset[int] | None = None):
        self.dir = build_dir
        self.staging = build_dir / "submission"
        self.hidden_dir = hidden_dir
        self.sanitize = sanitize
        self.jobs = jobs
        self.sandbox = sandbox
        self.steps = course.load_steps()
        # --steps: the steps graded (None: all). Every step file still goes into the build,
        # since a runner links them all; only the graded steps' judges are built and run.
        self.graded_steps = [s for s in self.steps if only is None or s.number in only]

    @functools.cached_property
    def targets(self) -> course.BuildTargets:
        """The build's targets (targets.json), once it is configured."""
        return course.load_targets(self.dir)

    @property
    def sandbox_program(self) -> Path:
        sandbox = self.targets.sandbox
        if sandbox is None:
            raise RuntimeError(NO_SANDBOX + " (this build has no sandbox program: "
                               "sudo apt-get install bubblewrap libseccomp-dev)")
        return sandbox.path

    @property
    def judging(self) -> Judging:
        """How this build's judges run: its sanitizers, and its sandbox unless --no-sandbox."""
        return Judging(self.sanitize, self.sandbox_program if self.sandbox else None)

    def judge(self, unit: Unit) -> course.Program | None:
        """The unit's test program; None when the build has none for it."""
        return self.targets.program("exercises", unit.step.number, unit.role)

    def runner(self, number: int) -> course.Program:
        """The runner that holds the student's steps 1..number."""
        found = self.targets.program("exercises", number, "runner")
        if found is None:
            raise RuntimeError(f"the grading build in {self.dir} has no runner for step {number}")
        return found

    def settings(self) -> list[str]:
        """The configure command's arguments after `cmake`: the "grading" preset of
        CMakePresets.json (the fixed settings) and what this grading adds to it."""
        flags = ["--preset", GRADING_PRESET,
                 f"-DATTN_EXERCISES_DIR={self.staging}",
                 f"-DATTN_SANITIZE={'address,undefined' if self.sanitize else ''}",
                 f"-DATTN_HIDDEN_TESTS_DIR={self.hidden_dir or ''}",
                 f"-DATTN_SANDBOX_COMPILE={'ON' if self.sandbox else 'OFF'}"]
        if shutil.which("ccache"):
            flags.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        return flags

    @contextlib.contextmanager
    def locked(self):
        """One grader at a time per build directory."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".grade.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def configure(self) -> None:
        stamp = self.dir / ".grade-settings"
        settings = self.settings()
        # The build needs every step file before the first student, and a step the manifest
        # gained since this build was configured (a course update) needs one too: CMake
        # regenerates the build on its first use then.
        for step in self.steps:
            if not (self.staging / step.file).exists():
                write_if_changed(self.staging / step.file, self.stub(step.number))
        # The preset's own settings go into the stamp too: a change to it reconfigures.
        settings_text = "\n".join(settings + [json.dumps(grading_preset(), sort_keys=True)])
        if (self.dir / "CMakeCache.txt").exists() and stamp.exists() \
                and stamp.read_text() == settings_text:
            return
        for step in self.steps:
            write_if_changed(self.staging / step.file, self.stub(step.number))
        cmd = ["cmake", "-S", str(course.ROOT), "-B", str(self.dir), *settings]  # -S, -B: the preset has neither
        if not (self.dir / "CMakeCache.txt").exists() and shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        proc = course.run(cmd)
        if proc.returncode != 0:
            if self.sandbox and "ATTN_SANDBOX_COMPILE needs the grading sandbox" in proc.stdout:
                raise RuntimeError(NO_SANDBOX + " (bubblewrap or libseccomp is missing: "
                                   "sudo apt-get install bubblewrap libseccomp-dev)")
            raise RuntimeError(f"configuring the grading build failed:\n{proc.stdout[-4000:]}")
        stamp.write_text(settings_text)

    def check_sandbox(self) -> None:
        """Stops grading, saying why, unless the sandbox works here (or --no-sandbox)."""
        if not self.sandbox:
            return
        built = course.build_in(self.dir, [self.targets.sandbox.target] if self.targets.sandbox else [])
        if not built.ok:
            raise RuntimeError(f"building the grader's sandbox program in {self.dir} failed:\n"
                               f"{course.compiler_errors(built.output) or built.output[-3000:]}")
        check = course.run([str(self.sandbox_program), "--check"],
                           env=SANITIZER_ENV if self.sanitize else None)
        if check.returncode != 0:
            raise RuntimeError(f"{NO_SANDBOX}:\n{check.stdout.strip()}")

    @functools.cached_property
    def ninja(self) -> bool:
        return "CMAKE_GENERATOR:INTERNAL=Ninja" in (self.dir / "CMakeCache.txt").read_text()

    def build_all(self) -> course.BuildResult:
        """Builds everything that compiles (keep going past errors): every judge and runner,
        or with --steps those of the graded steps."""
        keep_going = ["--", "-k", "0"] if self.ninja else ["--", "-k"]
        targets: list[str] = []
        if len(self.graded_steps) < len(self.steps):
            targets = ["--target", *([self.targets.sandbox.target] if self.targets.sandbox else [])]
            for unit in make_units(self.graded_steps, self.hidden_dir):
                judge = self.judge(unit)
                targets += ([judge.target] if judge else []) + [self.runner(unit.step.number).target]
        proc = course.run(["cmake", "--build", str(self.dir), "-j", str(self.jobs), *targets, *keep_going])
        return course.BuildResult(proc.returncode == 0, proc.stdout)

    def failures(self, output: str, sub: Submission, known: dict[int, str]) -> dict[int, str] | None:
        """The step files to blame for a failed Ninja build, with what to tell the student:
        a step object that does not compile, or a runner that does not link (its undefined
        references name the step file). None when a failure is not the student's."""
        blamed: dict[int, str] = {}
        blocks = re.split(r"^FAILED: ", output, flags=re.M)[1:]
        for block in blocks:
            target, _, rest = block.partition("\n")
            text = re.split(r"^(\[\d+/\d+\] |ninja: build stopped)", rest, flags=re.M)[0]
            compiled = self.object_step(target)
            linked = self.runner_step(target)
            if compiled is not None:
                blamed.setdefault(compiled, self.compiler_message(text, sub))
            elif linked is not None:
                named = {n: m for n, m in course.link_errors(text, self.steps, self.targets).items()
                         if n not in known}
                if not named and linked not in known:
                    named = {linked: self.compiler_message(text, sub)}
                for n, message in named.items():
                    blamed.setdefault(n, message)
            else:
                return None
        return blamed

    def object_step(self, failed: str) -> int | None:
        """The step whose file Ninja's failed edge compiles ("<target>.dir/<file>.o"), if any."""
        for m in course.OBJECT_DIR.finditer(failed):
            n = self.targets.step_of(m.group(1))
            if n is not None and self.targets.object("exercises", n) == m.group(1):
                return n
        return None

    def runner_step(self, failed: str) -> int | None:
        """The step whose runner Ninja's failed edge links (the edge names the program), if any."""
        names = {Path(output).name for output in failed.split()}
        return next((s.number for s in self.steps if self.runner(s.number).path.name in names), None)

    def step_file(self, number: int) -> str:
        return next(s.file for s in self.steps if s.number == number)

    def find_broken_steps(self, sub: Submission, broken: dict[int, str]) -> None:
        """The slow path (any generator, or a failure the build's output does not pin on a
        step): each step's object, then each runner, target by target."""
        for step in self.steps:
            own = course.build_in(self.dir, [self.targets.object("exercises", step.number)])
            if not own.ok and step.number not in broken:
                broken[step.number] = self.compiler_message(own.output, sub)
                write_if_changed(self.staging / step.file, self.stub(step.number))
        for step in self.steps:
            runner = course.build_in(self.dir, [self.runner(step.number).target])
            if runner.ok:
                continue
            named = {n: m for n, m in course.link_errors(runner.output, self.steps, self.targets).items()
                     if n not in broken}
            if not named and step.number not in broken:
                named = {step.number: self.compiler_message(runner.output, sub)}
            for n, message in named.items():
                broken[n] = message
                write_if_changed(self.staging / self.step_file(n), self.stub(n))
        self.build_all()

    @functools.cache
    def stub(self, step_number: int) -> bytes:
        """The step's stub as shipped (from git when the instructor's exercises/ was edited)."""
        step = course.find_step(self.steps, str(step_number))
        shipped = course.shipped_stub(step)
        return shipped.encode() if shipped else (course.ROOT / step.exercise).read_bytes()

    def compiler_message(self, output: str, sub: Submission) -> str:
        """The compiler's first error, without the command line, naming the student's file."""
        output = "\n".join(l for l in output.splitlines() if not COMMAND_LINE.match(l))
        text = course.compiler_errors(output, limit=40).replace(str(self.staging), str(sub.exercises))
        return cut(text, COMPILER_LIMIT)

    def submission(self, name: str, exercises: Path, out: Path, bin_dir: Path) -> Submission:
        """One submission with its units, compiled (compile()) into bin_dir; a submission the
        grader cannot handle gets its error, which costs only itself. Call under locked(),
        after configure() and check_sandbox()."""
        sub = Submission(name, exercises.absolute(), out, make_units(self.graded_steps, self.hidden_dir))
        if not self.sandbox:
            sub.notes.append(NO_SANDBOX_NOTE)
        try:
            if exercises.is_symlink() or not exercises.is_dir():
                raise RuntimeError(f"{exercises} is not a folder (a symbolic link is refused)")
            self.compile(sub, bin_dir)
        except Exception as e:
            sub.error = f"grading failed: {e}"
        return sub

    def compile(self, sub: Submission, bin_dir: Path) -> None:
        """Builds the submission's units; sets each unit's result (when it cannot run) or its
        private judge and runner (bin_dir), which later builds cannot overwrite."""
        refused: dict[int, str] = {}
        for step in self.steps:
            data, why = read_step_file(sub.exercises, step.file)
            if data is None:
                data = self.stub(step.number)
                if why:
                    refused[step.number] = why
                else:
                    sub.notes.append(f"{step.file} is missing from the submission: graded the stub")
            write_if_changed(self.staging / step.file, data)
        broken: dict[int, str] = dict(refused)
        built = self.build_all()
        # One build tells which step files fail to compile, or to link into the runner (a
        # call into attn::ref, say); each is replaced by its stub and the build runs again.
        for _ in range(len(self.steps)):
            if built.ok or not self.ninja:
                break
            blamed = self.failures(built.output, sub, broken)
            if not blamed:
                break
            for n, message in blamed.items():
                broken.setdefault(n, message)
                write_if_changed(self.staging / self.step_file(n), self.stub(n))
            built = self.build_all()
        if not built.ok:
            self.find_broken_steps(sub, broken)
        if broken:
            names = ", ".join(str(n) for n in sorted(broken))
            sub.notes.append(f"step(s) {names} do not compile or were refused: later steps were tested "
                             f"with their stubs, so only the tests that call them fail")
        for unit in sub.units:
            n = unit.step.number
            if n in broken:
                status = "refused" if n in refused else "does not compile"
                unit.result = course.StepResult(unit.step, status, detail=broken[n])
                continue
            judge = self.judge(unit)
            if judge is None:
                unit.result = course.StepResult(unit.step, "no tests",
                                                detail=f"the course has no tests for step {n} yet "
                                                       f"({unit.step.tests_file})")
                continue
            runner = self.runner(n)
            if not built.ok:  # only then does each unit need a look of its own
                mine = course.build_in(self.dir, [judge.target, runner.target])
                if not mine.ok:
                    unit.result = course.StepResult(unit.step, "does not compile",
                                                    detail=self.compiler_message(mine.output, sub))
                    continue
            unit.exe = bin_dir / judge.path.name
            unit.runner = bin_dir / runner.path.name
            link_or_copy(judge.path, unit.exe)
            link_or_copy(runner.path, unit.runner)


NO_SANDBOX = ("the grading sandbox cannot be set up here, so grading stops: student code would run "
              "with the grader's rights. Grade with --no-sandbox to run it unconfined anyway (every "
              "report then says so)")
NO_SANDBOX_NOTE = ("graded WITHOUT the sandbox (--no-sandbox): the student's code ran with the "
                   "grader's rights, so a hostile submission could have read or changed files")


def read_step_file(folder: Path, name: str) -> tuple[bytes | None, str]:
    """A submission's step file, read without following links: (its bytes, ""), or
    (None, why it is refused), or (None, "") when it is missing."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        if os.path.islink(path):
            return None, f"{name} is a symbolic link; refused (a step file must be a plain file)"
        return None, f"{name} cannot be read ({e.strerror}); refused"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            return None, f"{name} is a folder; refused (a step file must be a plain file)"
        if not stat.S_ISREG(st.st_mode):
            return None, f"{name} is not a plain file (a device, pipe or socket); refused"
        data = f.read(STEP_FILE_LIMIT + 1)
    if len(data) > STEP_FILE_LIMIT:
        return None, (f"{name} is larger than {STEP_FILE_LIMIT // 1024} KiB; refused (a step file "
                      f"is a page or two of C++)")
    return data, ""


def write_if_changed(path: Path, data: bytes) -> None:
    """Writes only new content: an unchanged file keeps its object, a changed one gets a
    fresh timestamp (newer than any object built from an earlier student's file)."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def link_or_copy(src: Path, dst: Path) -> None:
    # The linker writes a new file for the next student, so a hard link stays this one's.
    dst.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
