"""The `grade` command.

    grade SUBMISSIONS [--out DIR]     grade a class (the default command, alias `grade run`)
    grade check [ASSIGNMENT ...]      a student runs the visible checks on their own files
    grade build-template              regenerate student_template/ from reference/ and assignments/
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from grader import __version__, sandbox
from grader.batch import Course, grade_folder
from grader.check import run_visible_checks
from grader.course import CourseError
from grader.grading import SubmissionResult
from grader.report import check_output
from grader.runner import Limits


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a command, goes to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Auto-grading for the neural-network assignments.

    `grade SUBMISSIONS` grades a folder of submissions; `grade check` runs the visible checks
    on your own work.
    """


def _fmt(x: float) -> str:
    return f"{x:g}"


def _score_table(results: list[SubmissionResult], assignments: list[tuple[str, float]]) -> str:
    head = ["submission", *(a for a, _ in assignments), "total", "status"]
    rows = [["points possible", *(_fmt(m) for _, m in assignments), _fmt(sum(m for _, m in assignments)), ""]]
    for r in results:
        scores = r.assignment_scores()
        rows.append(
            [r.submission, *(_fmt(scores.get(a, (0, 0))[0]) for a, _ in assignments), _fmt(r.score), r.status]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)).rstrip() for row in rows]
    return "\n".join(lines)


SANDBOX_OPTION = click.option(
    "--sandbox", "sandbox_mode", type=click.Choice(sandbox.MODES), default="auto", show_default=True,
    help="Isolate student code with bubblewrap (bwrap), or not (none); auto uses bwrap when it works here.")


def _announce_isolation(mode: str, quiet: bool = False) -> None:
    """Probe the sandbox before grading: fail in one line for `bwrap`, warn loudly without one."""
    try:
        isolation = sandbox.resolve(mode)
    except sandbox.SandboxError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        for notice in isolation.notices:
            click.echo(click.style(f"WARNING: {notice}", fg="yellow", bold=True), err=True)


@main.command("run")
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for the reports.")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder with assignments/ and reference/ (default: $GRADER_COURSE or this checkout).")
@click.option("--assignment", "-a", "names", multiple=True, help="Grade only this assignment (repeatable).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded in parallel  [default: the machine's cores]")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds one function call may take.")
@click.option("--force", is_flag=True, help="Regrade all, also submissions unchanged since their report.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or lines.")
@SANDBOX_OPTION
@click.option("--memory", type=click.IntRange(min=256), default=Limits.memory_mb, show_default=True,
              help="MiB of address space one worker may use (NumPy needs about 256).")
@click.option("--cluster", "cluster_spec", metavar="SPEC", default=None,
              help="Grade on a Dask cluster: local[:N], tcp://HOST:PORT or ssh://HOST1,HOST2,... "
                   "(needs the extra: pip install 'nn-grader[cluster]').")
def run(submissions: Path, out: Path, course: Path | None, names: tuple[str, ...], jobs: int | None,
        timeout: float, force: bool, quiet: bool, sandbox_mode: str, memory: int, cluster_spec: str | None) -> None:
    """Grade every submission under SUBMISSIONS and write reports to --out.

    SUBMISSIONS is a folder of per-student folders or zips, a flat folder of
    <student>_<module>.py / .ipynb files, a Canvas, Moodle, Blackboard or Gradescope export, a
    zip of any of these, or one submission (a folder that holds the modules). Writes
    OUT/<submission>/results.json (Gradescope's schema), feedback.md and feedback.html, and
    OUT/grades.csv, summary.md and summary.html. Submissions unchanged since their last report
    are not regraded (--force regrades them). Exits 0 when grading completed, whatever the
    scores; 130 when stopped with Ctrl-C (the reports written so far are kept).
    """
    from grader.batch import default_course_root
    from grader.progress import Progress

    root = course or default_course_root()
    if not (root / "assignments").is_dir() or not (root / "reference").is_dir():
        raise click.UsageError(f"{root} is not a course folder (it needs assignments/ and reference/)")
    if submissions.is_file() and submissions.suffix.lower() != ".zip":
        raise click.UsageError(f"{submissions} is not a folder or a zip file")

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
    if not cluster_spec:
        _announce_isolation(sandbox_mode)  # with --cluster, preflight asks every worker host
    limits = Limits(call_timeout=timeout, sandbox=sandbox_mode, memory_mb=memory)
    previous = signal.signal(signal.SIGTERM, terminate)  # a `kill` stops like Ctrl-C
    try:
        with _cluster(cluster_spec, root, list(names) or None, limits, quiet) as remote:
            batch = grade_folder(submissions, out, Course(root), list(names) or None, limits,
                                 jobs, progress, force, remote)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:  # before any grading started: nothing to keep
        click.echo("\nInterrupted before grading started.", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bar is not None:
            bar.close()
    for warning in batch.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not batch.total:
        click.echo(f"No submissions found in {submissions}.", err=True)
    table = [(a.name, a.max_points) for a in batch.assignments]
    if len(batch.results) <= 60:
        click.echo(_score_table(batch.results, table))
    else:
        click.echo(f"{len(batch.results)} submissions graded: see {out / 'grades.csv'}")
    if batch.results:
        from grader.summary import glance, summarize

        click.echo("")
        for line in glance(summarize(batch.results, table)):
            click.echo(line)
    click.echo(f"\nReports: {out}/<submission>/feedback.md, feedback.html, results.json; "
               f"class: {out / 'grades.csv'}, {out / 'summary.html'}")
    if batch.skipped:
        click.echo(f"{batch.skipped} unchanged since their last report were not regraded "
                   "(--force regrades them).")
    if batch.interrupted:
        click.echo(f"\nInterrupted: {len(batch.results)} of {batch.total} submissions graded. Their reports "
                   "are kept; run the same command again to grade the rest.", err=True)
        sys.exit(130)


def _cluster(spec: str | None, root: Path, names: list[str] | None, limits: Limits,
             quiet: bool) -> contextlib.AbstractContextManager[Any]:
    """The preflighted cluster of `--cluster SPEC` (see `grader.cluster`), or nothing."""
    if spec is None:
        return contextlib.nullcontext()
    from grader.cluster import ClusterError, connect

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
              help="text for you, json for tools, classroom for GitHub Classroom's reporter (base64; exit 0).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds one function call may take.")
@SANDBOX_OPTION
def check(names: tuple[str, ...], fmt: str, as_json: bool, summary: Path | None, timeout: float,
          sandbox_mode: str) -> None:
    """Run the visible checks on your own files (in your copy of the student template).

    NAMES restricts the run to some assignments, e.g. `grade check forward`. The exit status is
    non-zero while a check fails (except with --format classroom, where the reporter decides).
    """
    from grader.classroom import classroom_payload, encode_payload, summary_markdown

    try:
        _announce_isolation(sandbox_mode, quiet=fmt != "text" or as_json)
        result, _ = run_visible_checks(Path.cwd(), list(names) or None,
                                       Limits(call_timeout=timeout, sandbox=sandbox_mode))
    except CourseError as exc:
        raise click.ClickException(str(exc)) from exc
    fmt = "json" if as_json else fmt
    if summary is not None:
        with open(summary, "a") as f:
            f.write(summary_markdown(result))
    if fmt == "classroom":
        click.echo(encode_payload(classroom_payload(result)))
        return
    click.echo(json.dumps(_check_json(result), indent=2) if fmt == "json" else _check_text(result))
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


def _check_text(result: SubmissionResult) -> str:
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    ok = click.style("PASS", fg="green") if color else "PASS"
    bad = click.style("FAIL", fg="red") if color else "FAIL"
    lines = [f"  {ok if c.passed else bad}  {c.name}  ({_fmt(c.score)}/{_fmt(c.max_score)})" for c in result.checks]
    failed = [c for c in result.checks if not c.passed]
    if failed:
        first = failed[0]
        lines += ["", f"First failure: {first.name}", "", check_output(first)]
        if len(failed) > 1:
            more = len(failed) - 1
            lines.append(f"\n({more} more failing check{'s' if more > 1 else ''}: fix this one first)")
    for note in result.notices:
        lines.append(f"note: {note}")
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
    from grader.batch import default_course_root
    from grader.template import build_template

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
    from grader.batch import default_course_root
    from grader.validate import validate_course

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


@main.group("export")
def export() -> None:
    """Package the course for running elsewhere (e.g. `grade export gradescope`)."""


@export.command("gradescope")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to upload as the assignment's autograder.")
@click.option("--course", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Course folder (default: $GRADER_COURSE or this checkout).")
@click.option("--assignment", "-a", "names", multiple=True, help="Only this assignment (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds one function call may take.")
def export_gradescope(out: Path, course: Path | None, names: tuple[str, ...], timeout: float) -> None:
    """A Gradescope autograder zip: setup.sh and run_autograder, the grader, checks and reference.

    Upload it as a programming assignment's autograder (base image: any Ubuntu). Each
    submission is graded in its own container into results/results.json; hidden checks are
    shown to students once grades are published.
    """
    from grader.batch import default_course_root
    from grader.export import build_gradescope_zip

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
    from grader.batch import default_course_root
    from grader.export import run_gradescope

    config = json.loads(settings.read_text()) if settings and settings.exists() else {}
    result = run_gradescope(submission, results, default_course_root(), config.get("assignments") or None,
                            float(config.get("timeout", 10.0)), metadata)
    click.echo(f"{result.submission}: {_fmt(result.score)} / {_fmt(result.max_score)} ({result.status})")


if __name__ == "__main__":  # pragma: no cover
    main()
