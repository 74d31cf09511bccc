"""The `grade` command.

    grade SUBMISSIONS [--out DIR]     grade a class (the default command, alias `grade run`)
    grade check [ASSIGNMENT ...]      a student runs the visible checks on their own files
    grade build-template              regenerate student_template/ from reference/ and assignments/

A new command is `@main.command(...)` (a new group `@main.group(...)`, or `@export.command(...)`
under `grade export`): its line in the help's listing is its `short_help`, or else its help's
first paragraph, whole. Raise `click.UsageError` or `click.ClickException` for an error: `grade`
prints it in one line.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from grader import __version__
from grader.course.loading import Course, CourseError, default_course_root
from grader.engine.batch import expected_soon, grade_folder
from grader.engine.selfcheck import find_checks_dir, run_visible_checks
from grader.gradebook.store import GradebookError, Target, default_path, open_gradebook
from grader.isolation import sandbox, slots
from grader.model import Limits, SubmissionResult
from grader.reports.failures import group_failures
from grader.reports.feedback import STUDENTS, check_output, explains
from grader.reports.inert import visible
from grader.reports.output import OutputError


def summary_line(cmd: click.Command) -> str:
    """A command's line in a listing: its `short_help`, else its help's whole first paragraph."""
    if cmd.short_help:
        return cmd.short_help
    first = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
    return " ".join(first.replace("\b", "").split())


class Group(click.Group):
    """A command group whose listing gives each command's whole first sentence (click cuts it at 45
    characters or the first full stop)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, summary_line(cmd)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class MainGroup(Group):
    """`grade`: a first argument that is not a command goes to `run` (`grade SUBMISSIONS`).

    Its help shows how to grade (the usage line and `run`'s options), and every error, a usage
    error included, is one line `grade: error: ...` on stderr with a non-zero exit status.
    """

    group_class = Group
    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            if not args[0].startswith("-") and not os.path.exists(args[0]):
                close = difflib.get_close_matches(args[0], list(self.commands), n=1)
                if close:
                    raise click.UsageError(f"no command or folder named {args[0]!r} (did you mean "
                                           f"`{ctx.command_path} {close[0]}`?)", ctx)
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "SUBMISSIONS [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        grading = self.get_command(ctx, self.default_command)
        if grading is not None:
            sub = click.Context(grading, info_name=self.default_command, parent=ctx)
            rows = [record for p in grading.get_params(sub)
                    if isinstance(p, click.Option) and p.name != "help" and (record := p.get_help_record(sub))]
            with formatter.section(f"Grading options ({ctx.command_path} SUBMISSIONS [OPTIONS])"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command; print any error in one line (see the class docstring)."""
        prog_name = prog_name or "grade"  # also under `python -m grader`
        if not standalone_mode:  # a caller that handles click's exceptions itself
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else prog_name
            click.echo(f"grade: error: {_one_line(exc.format_message())} Try `{where} --help`.", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"grade: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            interrupted = isinstance(exc.__cause__, KeyboardInterrupt)
            click.echo("grade: interrupted" if interrupted else "grade: aborted", err=True)
            sys.exit(130 if interrupted else 1)
        sys.exit(rv if isinstance(rv, int) else 0)  # `rv` is an exit code after --help or --version


@click.group(cls=MainGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Auto-grading for the neural-network assignments.

    `grade SUBMISSIONS` grades a class and is short for `grade run SUBMISSIONS`: every
    sub-folder or zip of SUBMISSIONS is one student, and LMS exports are understood (try
    `grade examples/submit` in this repository). `grade check` runs the visible checks on your
    own work, inside your copy of the student template.
    """
    if ctx.invoked_subcommand is None:  # `grade` alone: the help
        click.echo(ctx.get_help())


def _fmt(x: float) -> str:
    return f"{x:g}"


def _score_table(results: list[SubmissionResult], assignments: list[tuple[str, float]]) -> str:
    head = ["submission", *(a for a, _ in assignments), "total", "status"]
    rows = [["points possible", *(_fmt(m) for _, m in assignments), _fmt(sum(m for _, m in assignments)), ""]]
    for r in results:
        scores = r.assignment_scores()
        rows.append(
            [visible(r.submission), *(_fmt(scores.get(a, (0, 0))[0]) for a, _ in assignments), _fmt(r.score),
             r.status]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)).rstrip() for row in rows]
    return "\n".join(lines)


SANDBOX_OPTION = click.option(
    "--sandbox", "sandbox_mode", type=click.Choice(sandbox.MODES), default=Limits.sandbox, show_default=True,
    help="Isolate student code with bubblewrap (bwrap), or not (none); auto uses bwrap when it works here.")


def _gradebook_target(root: Path, path: Path | None, submitted_at: str | None) -> Target:
    """Where `grade run` records its results; fails in one line when the gradebook cannot be used."""
    from datetime import datetime

    when = None
    if submitted_at:
        try:
            when = datetime.fromisoformat(submitted_at)
        except ValueError:
            raise click.BadParameter(f"{submitted_at!r} is not a date and time such as 2026-10-07T09:00",
                                     param_hint="--submitted-at") from None
    target = Target(path or default_path(root), when)
    try:  # fail before grading, not after it
        open_gradebook(target.path).close()
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from exc
    return target


UNSAFE_ROOT_OPTION = click.option(
    "--unsafe-run-as-root", "run_as_root", is_flag=True,
    help="Without a sandbox, as root, where no other uid can run Python: run student code as root "
         "anyway (only in a disposable container).")


def _cannot_write(exc: OutputError) -> click.ClickException:
    """Output that cannot be written: `grade: error: cannot write PATH: CAUSE`, exit status 1."""
    return click.ClickException(visible(exc))


def _announce_isolation(mode: str, quiet: bool = False, run_as_root: bool = False) -> sandbox.Isolation:
    """Probe the sandbox before grading: fail in one line for `bwrap` or for student code
    running as root, warn loudly without a sandbox."""
    try:
        isolation = sandbox.resolve(mode)
        sandbox.check_root(isolation, run_as_root)
    except sandbox.SandboxError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        for notice in isolation.instructor_notices:
            click.echo(click.style(f"WARNING: {notice}", fg="yellow", bold=True), err=True)
    return isolation


@main.command("run", short_help="Grade a class: `grade SUBMISSIONS` is short for `grade run SUBMISSIONS`.")
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for the reports.")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder with assignments/ and reference/ (default: $GRADER_COURSE or this checkout).")
@click.option("--assignment", "-a", "names", multiple=True, help="Grade only this assignment (repeatable).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded in parallel  [default: the machine's cores]")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.call_timeout, show_default=True,
              help="Seconds one function call may take.")
@click.option("--force", is_flag=True, help="Regrade all, also submissions unchanged since their report.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or lines.")
@SANDBOX_OPTION
@UNSAFE_ROOT_OPTION
@click.option("--memory", type=click.IntRange(min=256), default=Limits.memory_mb, show_default=True,
              help="MiB of address space one worker may use (NumPy needs about 256).")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The semester's gradebook (SQLite)  [default: $GRADER_GRADEBOOK or COURSE/gradebook.db]")
@click.option("--no-gradebook", is_flag=True, help="Do not record this run in the gradebook.")
@click.option("--no-course-cache", is_flag=True,
              help="Compute the expected values afresh instead of reading the course cache "
                   "(~/.cache/nn-grader, or $GRADER_COURSE_CACHE; `off` there does the same).")
@click.option("--submitted-at", "submitted_at", default=None, metavar="TIME",
              help="When work whose layout gives no time was submitted (e.g. 2026-10-07T09:00; the course's zone).")
@click.option("--cluster", "cluster_spec", metavar="SPEC", default=None,
              help="Grade on a Dask cluster: local[:N], tcp://HOST:PORT or ssh://HOST1,HOST2,... "
                   "(needs the extra: pip install 'nn-grader[cluster]').")
def run(submissions: Path, out: Path, course: Path | None, names: tuple[str, ...], jobs: int | None,
        timeout: float, force: bool, quiet: bool, sandbox_mode: str, memory: int, gradebook: Path | None,
        no_gradebook: bool, submitted_at: str | None, run_as_root: bool,
        cluster_spec: str | None, no_course_cache: bool) -> None:
    """Grade every submission under SUBMISSIONS and write reports to --out.

    SUBMISSIONS is a folder of per-student folders or zips, a flat folder of
    <student>_<module>.py / .ipynb files, a Canvas, Moodle, Blackboard or Gradescope export, a
    zip of any of these, or one submission (a folder that holds the modules). Writes
    OUT/students/<submission>/results.json (Gradescope's schema), feedback.md and
    feedback.html, and OUT/grades.csv, summary.md and summary.html. Submissions unchanged since
    their last report are not regraded (--force regrades them). Exits 0 when grading completed,
    whatever the scores; 130 when stopped with Ctrl-C (the reports written so far are kept); 1
    with one line `grade: error: cannot write PATH: CAUSE` when the output cannot be written.
    """
    from grader.reports.progress import Progress

    root = course or default_course_root()
    if not (root / "assignments").is_dir() or not (root / "reference").is_dir():
        raise click.UsageError(f"{root} is not a course folder (it needs assignments/ and reference/)")
    if submissions.is_file() and submissions.suffix.lower() != ".zip":
        raise click.UsageError(f"{submissions} is not a folder or a zip file")
    target = None if no_gradebook else _gradebook_target(root, gradebook, submitted_at)

    bar: Progress | None = None

    def progress(result: SubmissionResult, done: int, total: int, skipped: bool) -> None:
        nonlocal bar
        if quiet:
            return
        bar = bar or Progress(total)
        bar.update(result, skipped)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if cluster_spec and jobs:
        raise click.UsageError("-j counts submissions graded on this machine; with --cluster use local:N")
    if not cluster_spec:  # with --cluster, preflight asks every host
        sandbox.resolve_soon(sandbox_mode)  # the probe runs while the course loads
    limits = Limits(call_timeout=timeout, sandbox=sandbox_mode, memory_mb=memory, unsafe_run_as_root=run_as_root)
    previous = signal.signal(signal.SIGTERM, terminate)  # a `kill` stops like Ctrl-C
    # While the probe runs: a worker template for the isolation it will most likely find, and
    # (once the course is loaded) the course cache read. Each is used only if still right.
    likely = None if cluster_spec else sandbox.likely(sandbox_mode)
    try:
        with slots.ahead(likely, limits):
            loaded = Course.load(root, list(names) or None)
            ready = None
            if not cluster_spec:
                ready = expected_soon(loaded, not no_course_cache)
                _announce_isolation(sandbox_mode, run_as_root=run_as_root)
            with _cluster(cluster_spec, root, list(names) or None, limits, quiet) as remote:
                batch = grade_folder(submissions, out, loaded, limits, jobs, progress, force, target,
                                     cluster=remote, course_cache=not no_course_cache, ready=ready)
    except (CourseError, GradebookError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OutputError as exc:  # the reports written so far are complete and kept; a rerun does the rest
        raise _cannot_write(exc) from None
    except KeyboardInterrupt:  # before any grading started: nothing to keep
        click.echo("\nInterrupted before grading started.", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bar is not None:
            bar.close()
    for warning in batch.warnings:
        click.echo(f"warning: {visible(warning)}", err=True)
    if not batch.total:
        click.echo(f"No submissions found in {submissions}.", err=True)
    table = [(a.name, a.max_points) for a in batch.assignments]
    if len(batch.rows) <= 60:
        click.echo(_score_table(batch.rows, table))
    else:
        click.echo(f"{len(batch.rows)} submissions graded: see {out / 'grades.csv'}")
    if batch.rows and batch.summary is not None:
        from grader.reports.summary import glance

        click.echo("")
        for line in glance(batch.summary):
            click.echo(line)
    click.echo(f"\nReports: {out / STUDENTS}/<submission>/feedback.md, feedback.html, results.json; "
               f"class: {out / 'grades.csv'}, {out / 'summary.html'}")
    if target is not None:
        click.echo(f"Gradebook: {target.path} (grade gradebook shows the semester)")
    if batch.skipped:
        click.echo(f"{batch.skipped} unchanged since their last report were not regraded "
                   "(--force regrades them).")
    if batch.interrupted:
        click.echo(f"\nInterrupted: {len(batch.rows)} of {batch.total} submissions graded. Their reports "
                   "are kept; run the same command again to grade the rest.", err=True)
        sys.exit(130)


def _cluster(spec: str | None, root: Path, names: list[str] | None, limits: Limits,
             quiet: bool) -> contextlib.AbstractContextManager[Any]:
    """The preflighted cluster of `--cluster SPEC` (see `grader.engine.cluster`), or nothing."""
    if spec is None:
        return contextlib.nullcontext()
    from grader.engine.cluster import ClusterError, connect

    try:
        remote = connect(spec, root, names, limits)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        hosts = sorted({h.host for h in remote.hosts})
        click.echo(f"cluster {spec}: {len(remote.hosts)} worker(s) on {', '.join(hosts)}, sandbox {remote.tier}; "
                   f"preflight {remote.preflight_seconds:.2f} s", err=True)
    return remote


@main.command("check")
@click.argument("names", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "classroom"]), default="text",
              show_default=True,
              help="text for you, json for tools, classroom: lines for $GITHUB_ENV that GitHub Classroom's "
                   "reporter reads (exit 0).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.call_timeout, show_default=True,
              help="Seconds one function call may take.")
@SANDBOX_OPTION
@UNSAFE_ROOT_OPTION
def check(names: tuple[str, ...], fmt: str, as_json: bool, summary: Path | None, timeout: float,
          sandbox_mode: str, run_as_root: bool) -> None:
    """Run the visible checks on your own files (in your copy of the student template).

    NAMES restricts the run to some assignments, e.g. `grade check forward`. The exit status is
    non-zero while a check fails (except with --format classroom, where the reporter decides).
    """
    from grader.reports.classroom import PayloadTooLarge, classroom_env, summary_markdown

    try:
        find_checks_dir(Path.cwd())  # before the sandbox notice: no code runs without checks
        isolation = _announce_isolation(sandbox_mode, quiet=fmt != "text" or as_json, run_as_root=run_as_root)
        result, _ = run_visible_checks(Path.cwd(), list(names) or None,
                                       Limits(call_timeout=timeout, sandbox=sandbox_mode,
                                              unsafe_run_as_root=run_as_root))
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    fmt = "json" if as_json else fmt
    if summary is not None:
        with open(summary, "a") as f:
            f.write(summary_markdown(result))
    if fmt == "classroom":
        try:
            click.echo(classroom_env(result))
        except PayloadTooLarge as exc:
            raise click.ClickException(str(exc)) from exc
        return
    click.echo(json.dumps(_check_json(result), indent=2) if fmt == "json"
               else _check_text(result, shown=isolation.notices))
    sys.exit(0 if all(c.passed for c in result.checks) else 1)


def _check_json(result: SubmissionResult) -> dict[str, Any]:
    return {
        "score": result.score,
        "max_score": result.max_score,
        "checks": [
            {"name": c.name, "passed": c.passed, "score": c.score, "max_score": c.max_score,
             "output": check_output(c)}
            for c in result.checks
        ],
        "notices": result.notices,
    }


def _check_text(result: SubmissionResult, shown: Sequence[str] = ()) -> str:
    """The student's table, the first failure in full (with what it also explains), the points.

    `shown`: notices already printed (the sandbox warning), not repeated here.
    """
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    ok = click.style("PASS", fg="green") if color else "PASS"
    bad = click.style("FAIL", fg="red") if color else "FAIL"
    lines = [f"  {ok if c.passed else bad}  {c.name}  ({_fmt(c.score)}/{_fmt(c.max_score)})" for c in result.checks]
    subjects = group_failures(result.checks)
    if subjects:
        subject, first = subjects[0], subjects[0].failures[0]
        lines += ["", f"First failure: {first.shown.name}", "", check_output(first.shown)]
        also = explains(first, subject)
        if also:
            lines += ["", also]
        more = sum(s.failed for s in subjects) - len(first.checks)
        if more:
            lines.append(f"\n({more} more failing check{'s' if more > 1 else ''}: fix this one first)")
    for note in result.notices:
        if note not in shown:
            lines.append(f"note: {visible(note)}")
    passed = sum(c.passed for c in result.checks)
    lines += ["", f"{passed}/{len(result.checks)} visible checks passed. "
              f"Points so far: {_fmt(result.score)} / {_fmt(result.max_score)} "
              "(hidden checks are graded after the deadline)."]
    return "\n".join(lines)


@main.command("build-template")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder (default: this checkout).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the template (default: COURSE/student_template).")
def build_template_cmd(course: Path | None, out: Path | None) -> None:
    """Generate the student template: stubs, visible checks, frozen expected values, handouts."""
    from grader.course.template import build_template

    root = course or default_course_root()
    dest = out or root / "student_template"
    try:
        written = build_template(root, dest)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {len(written)} files to {dest}")


@main.command("validate")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder (default: this checkout).")
def validate_cmd(course: Path | None) -> None:
    """Check the checks: the reference scores full marks and the template zero, on every check."""
    from grader.engine.validate import validate_course

    try:
        found = validate_course(course or default_course_root())
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in found.problems:
        click.echo(f"PROBLEM  {problem}")
    for mistake in found.unseen_mistakes:
        click.echo(f"note     no check's inputs reveal the catalogued mistake {mistake}")
    verdict = "every check passes on the reference and fails on the template" if not found.problems else (
        f"{len(found.problems)} problem(s)")
    click.echo(f"{found.checks} checks: {verdict}.")
    sys.exit(1 if found.problems else 0)


@main.command("import-notebook")
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The assignment's (and its module's) name, e.g. forward.")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder (default: this checkout).")
@click.option("--force", is_flag=True, help="Replace the reference, handout and notebook_tests.py if they exist.")
def import_notebook_cmd(master: Path, name: str, course: Path | None, force: bool) -> None:
    """Make an assignment from an nbgrader or Otter master notebook (reference, handout, its tests).

    The test cells are kept word for word in assignments/NAME/notebook_tests.py, to be rewritten
    as checks; then add NAME to course.toml and run `grade build-template`.
    """
    from grader.course.master import convert_master, write_course_files
    from grader.course.solutions import MarkerError

    try:
        converted = convert_master(master.read_bytes(), master.name)
        written = write_course_files(course or default_course_root(), name, converted, force)
    except (MarkerError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    for note in converted.notes:
        click.echo(f"note: {note}")
    click.echo(f"Wrote {', '.join(str(p) for p in written)}; {len(converted.tests)} test cell(s) to rewrite as checks.")


@main.group("export", cls=Group)
def export() -> None:
    """Package the course for running elsewhere (`grade export gradescope`), or grades for an LMS (canvas, moodle)."""


@export.command("gradescope")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to upload as the assignment's autograder.")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder (default: $GRADER_COURSE or this checkout).")
@click.option("--assignment", "-a", "names", multiple=True, help="Only this assignment (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.call_timeout, show_default=True,
              help="Seconds one function call may take.")
def export_gradescope(out: Path, course: Path | None, names: tuple[str, ...], timeout: float) -> None:
    """A Gradescope autograder zip: setup.sh and run_autograder, the grader, checks and reference.

    Upload it as a programming assignment's autograder (base image: any Ubuntu). Each
    submission is graded in its own container into results/results.json; hidden checks are
    shown to students once grades are published.
    """
    from grader.engine.gradescope import build_gradescope_zip

    try:
        written = build_gradescope_zip(course or default_course_root(), out, list(names) or None, timeout)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {out} ({len(written)} files). "
               "Upload it in Gradescope: Configure Autograder -> Zip file.")


@export.command("gradescope-run", hidden=True)
@click.option("--submission", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--settings", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_gradescope_run(
    submission: Path, results: Path, metadata: Path | None, settings: Path | None
) -> None:
    """Inside Gradescope's container: grade SUBMISSION into RESULTS (what run_autograder calls)."""
    from grader.engine.gradescope import run_gradescope

    config = json.loads(settings.read_text()) if settings and settings.exists() else {}
    try:
        result = run_gradescope(submission, results, default_course_root(), config.get("assignments") or None,
                                float(config.get("timeout", Limits.call_timeout)), metadata)
    except OutputError as exc:
        raise _cannot_write(exc) from None
    click.echo(f"{visible(result.submission)}: {_fmt(result.score)} / {_fmt(result.max_score)} ({result.status})")


def _add_gradebook_commands() -> None:
    from grader.cli.gradebook import export_canvas, export_moodle, gradebook_cmd

    main.add_command(gradebook_cmd)
    export.add_command(export_canvas)
    export.add_command(export_moodle)


_add_gradebook_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
