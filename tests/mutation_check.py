"""Does the suite notice a broken grader? Small deliberate breakages, each must fail some test.

    python tests/mutation_check.py            # every breakage in BREAKAGES
    python tests/mutation_check.py -k regrade # only those whose id contains "regrade"
    python tests/mutation_check.py --list     # the table, nothing run

The checkout is copied to a temporary folder once (the working tree is never touched). There,
the tests named by every breakage are first run on the unbroken code (they must pass: a
breakage "caught" by a test that fails anyway proves nothing). Then, for each breakage, its one
line is changed, its tests are run with `python -m pytest -x -q`, and the file is restored.
A breakage is *caught* when the tests fail. The exit status is 1 when any breakage is missed,
when its old text is not found exactly once (the code moved: re-anchor the entry) or when the
unbroken code fails its tests.

Each entry of BREAKAGES: `(id, file under grader/, exact old text, new text, tests to run)`. The
tests are a targeted subset (paths or node ids under tests/), so the whole check takes a few
minutes on two cores. Keep the old text short and on lines unlikely to be rewritten.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Breakage(NamedTuple):
    id: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


B = Breakage
BREAKAGES = [
    # --- summary: the class summary's orders
    # (the sort key is left in place and ignored, so the entry holds whatever the key becomes)
    B("summary-checks-unsorted", "reports/summary.py",
      "checks = sorted(self._checks.values(),", "checks = (lambda values, key: list(values))(self._checks.values(),",
      ("tests/reports/test_summary.py",)),
    B("summary-mistakes-unsorted", "reports/summary.py",
      "ranked = sorted((m for _, m in self._mistakes.values()),",
      "ranked = (lambda values, key: list(values))((m for _, m in self._mistakes.values()),",
      ("tests/reports/test_summary.py",)),
    B("summary-wrong-not-counted", "reports/summary.py",
      "s.wrong += not c.passed and c.problem is None", "s.wrong += not c.passed", ("tests/reports/test_summary.py",)),
    # --- regrade: every input of a result is in its hash
    B("regrade-reference-not-hashed", "engine/regrade.py",
      '_add(h, f"reference/{path.name}", path.read_bytes())', "pass",
      ("tests/engine/test_regrade.py", "tests/engine/test_batch.py::test_an_edited_reference_regrades_everyone")),
    B("regrade-grader-source-not-hashed", "engine/regrade.py",
      "_add(h, name, path.read_bytes())", "pass", ("tests/engine/test_regrade.py",)),
    B("regrade-version-not-hashed", "engine/regrade.py",
      '_add(h, "version", grader.__version__.encode())', '_add(h, "version", b"")', ("tests/engine/test_regrade.py",)),
    B("regrade-checks-not-hashed", "engine/regrade.py",
      '_add(h, f"{a.name}/{path.name}", path.read_bytes())', "pass",
      ("tests/engine/test_regrade.py",
       "tests/engine/test_batch.py::test_a_change_in_the_checks_or_the_time_limit_regrades_everyone")),
    B("regrade-settings-not-hashed", "engine/regrade.py",
      '_add(h, "settings", repr(settings).encode())', "pass", ("tests/engine/test_regrade.py",)),
    B("regrade-half-written-report-reused", "engine/regrade.py",
      "if not all((folder / name).is_file() for name in REPORT_FILES):", "if False:",
      ("tests/engine/test_regrade.py",)),
    B("regrade-file-boundaries-lost", "engine/regrade.py",
      'h.update(f"{label}\\0{len(data)}\\0".encode())', 'h.update(label.encode())', ("tests/engine/test_regrade.py",)),
    # --- judges
    B("judges-differs-always-passes", "checks/judges.py",
      "if difference(a, b, EXACT) is None:", "if False:", ("tests/checks/test_judges.py",)),
    B("judges-repeatable-calls-once", "checks/judges.py",
      "first, second = student.call(self.call), student.call(self.call)",
      "first = second = student.call(self.call)", ("tests/checks/test_judges.py",)),
    B("judges-unchanged-returns-early", "checks/judges.py",
      'after = student.call(self.call, return_args=True)["args"]',
      'after = student.call(self.call, return_args=True)["args"]\n        return Verdict(True)',
      ("tests/checks/test_judges.py",)),
    B("judges-raises-any-exception", "checks/judges.py",
      'if err.kind == "exception" and err.message.startswith(f"{expected}:"):', 'if err.kind == "exception":',
      ("tests/checks/test_judges.py",)),
    B("compare-value-tolerance-x10", "checks/compare.py",
      "VALUE = Tolerance(rtol=1e-6, atol=1e-9)", "VALUE = Tolerance(rtol=1e-5, atol=1e-9)",
      ("tests/checks/test_judges.py",)),
    B("judges-gradient-floor-x10", "checks/judges.py",
      "GRADIENT_ATOL = 1e-8", "GRADIENT_ATOL = 1e-7", ("tests/checks/test_judges.py",)),
    B("judges-mistake-not-named", "checks/diagnosis.py",
      "        if difference(got, output, tol) is None:", "        if False:",
      ("tests/checks/test_judges.py",)),
    # --- compare
    B("compare-exact-equality-fails", "checks/compare.py",
      "if (excess <= 0).all():", "if (excess < 0).all():", ("tests/checks/test_compare.py",)),
    B("compare-shape-broadcasts", "checks/compare.py",
      "if got.shape != exp.shape:", "if got.ndim != exp.ndim:", ("tests/checks/test_compare.py",)),
    B("compare-identical-ignores-a-negative-tolerance", "checks/compare.py",
      "return tol.rtol >= 0 and tol.atol >= 0 and", "return True or", ("tests/checks/test_compare.py",)),
    B("judges-gradient-memo-ignores-the-dtype", "checks/judges.py",
      '("a", point.dtype.str, point.shape, point.tobytes())', '("a", point.shape, point.tobytes())',
      ("tests/checks/test_judges.py",)),
    # --- the course cache: its key, and what it refuses to read
    B("cache-reference-not-hashed", "course/cache.py",
      'for part in ("assignments", "reference"):', 'for part in ("assignments",):', ("tests/course/test_cache.py",)),
    B("cache-reads-a-file-others-may-write", "course/cache.py",
      "or info.st_mode & 0o077", "or False", ("tests/course/test_cache.py",)),
    B("cache-digest-unchecked", "course/cache.py",
      "if head != _header(key, body):", 'if not head.startswith(FORMAT + b" " + key.encode()):',
      ("tests/course/test_cache.py",)),
    # --- numgrad
    B("numgrad-one-sided-step", "checks/numgrad.py",
      "grad.reshape(-1)[i] = (plus - minus) / (2 * h)", "grad.reshape(-1)[i] = (plus - minus) / h",
      ("tests/checks/test_numgrad.py",)),
    B("numgrad-directions-not-unit", "checks/numgrad.py",
      "u = {k: a / norm for k, a in u.items()}", "u = {k: a / norm**0.5 for k, a in u.items()}",
      ("tests/checks/test_numgrad.py",)),
    # --- validate
    B("validate-template-not-graded", "engine/validate.py",
      "for c in as_stub.checks:", "for c in as_stub.checks[:0]:",
      ("tests/engine/test_validate.py::test_validate_names_checks_that_cannot_fail_or_cannot_pass",)),
    B("validate-every-mistake-seen", "engine/validate.py",
      "named = {name for e in expected.values() for name in _mistake_names(e)}",
      "named = {m.name for a in assignments for m in a.mistakes}",
      ("tests/engine/test_validate.py::test_a_mistake_no_check_can_reveal_is_listed",)),
    # --- policy (the static scan)
    B("policy-own-modules-not-followed", "worker/policy.py",
      "if top in own:\n                todo.append(top)", "if top in own:\n                pass",
      ("tests/worker/test_policy_scan.py",)),
    B("policy-violations-unsorted", "worker/policy.py",
      "ImportScan(sorted(found, key=lambda v: (v.file != first, v.file, v.line)),", "ImportScan(list(found),",
      ("tests/worker/test_policy_scan.py",)),
    B("policy-dunder-import-unseen", "worker/policy.py",
      'and node.func.id == "__import__"', 'and node.func.id == "__imp0rt__"', ("tests/worker/test_policy_scan.py",)),
    # --- worker
    B("worker-non-callable-called", "worker/serve.py",
      "if not callable(function):", "if function is None:", ("tests/worker/test_worker.py",)),
    B("worker-output-uncapped", "worker/serve.py",
      "self._left -= len(data)", "pass", ("tests/worker/test_worker.py",)),
    # --- inputs (what instructors download)
    B("inputs-encrypted-member-read", "inputs/collect.py",
      "if info.flag_bits & 0x1:", "if False:", ("tests/inputs/test_inputs.py",)),
    B("inputs-member-path-escapes", "inputs/collect.py",
      "def _member_path(raw: str) -> PurePosixPath | None:",
      "def _member_path(raw: str) -> PurePosixPath | None:\n    return PurePosixPath(raw)",
      ("tests/inputs/test_inputs.py",)),
    # --- codec (the channel)
    B("codec-array-size-unchecked", "worker/codec.py",
      "if total_elems > limits.max_elements or total_bytes > limits.max_array_bytes:", "if False:",
      ("tests/worker/test_codec.py",)),
    # --- report and HTML
    B("report-hidden-checks-shown", "reports/feedback.py",
      '"visibility": "visible" if c.visible else "after_published",', '"visibility": "visible",',
      ("tests/reports/test_summary.py",)),
    B("htmlpage-no-escape", "reports/htmlpage.py",
      'Html(html.escape(visible(value, keep="\\n\\t"), quote=True))', "Html(str(value))",
      ("tests/reports/test_summary.py",)),
    # --- grading
    B("grading-policy-costs-one-check", "engine/grading.py",
      'if c.module in broken and c.problem != "policy":', "if False:", ("tests/engine/test_broken_submissions.py",)),
    # --- batch
    B("batch-jobs-ignore-affinity", "engine/batch.py",
      "return len(os.sched_getaffinity(0))", "return os.cpu_count() or 1",
      ("tests/engine/test_batch.py::test_jobs_default_to_the_cores_this_process_may_use",)),
    B("grading-call-limit-raised", "engine/grading.py",
      "min(a.call_timeout, limits.call_timeout)", "max(a.call_timeout, limits.call_timeout)",
      ("tests/cli/test_limits_options.py::test_the_per_call_limit_is_the_smaller_of_the_assignments_and_the_command_lines",)),
    # --- runner (the per-submission time budget)
    B("runner-budget-unchecked", "isolation/runner.py",
      "if budget <= 0:", "if False:",
      ("tests/cli/test_limits_options.py::test_a_submission_that_uses_up_its_time_budget_has_its_later_calls_skipped",)),
    # --- cli
    B("cli-memory-ignored", "cli/commands.py",
      "Limits(call_timeout=timeout, sandbox=sandbox_mode, memory_mb=memory, unsafe_run_as_root=run_as_root)",
      "Limits(call_timeout=timeout, sandbox=sandbox_mode, unsafe_run_as_root=run_as_root)",
      ("tests/cli/test_limits_options.py::test_memory_option_sets_the_workers_memory_limit",)),
    # --- check (a student's own run)
    B("check-only-in-the-top-folder", "engine/selfcheck.py",
      "for folder in [start, *start.parents]:", "for folder in [start]:",
      ("tests/cli/test_cli.py::test_student_check_from_a_subfolder_of_the_template",)),
    # --- classroom
    B("classroom-always-pass", "reports/classroom.py",
      '"status": "pass" if all(c.passed for c in checks) else "fail",', '"status": "pass",',
      ("tests/reports/test_classroom.py::test_failing_checks_give_fail_and_a_message",)),
    # --- course (the reference side)
    B("course-mistakes-never-run", "course/loading.py",
      "for m in self._mistakes.get((call.module, call.function), []):", "for m in []:",
      ("tests/reports/test_summary.py::test_feedback_html_of_a_real_run_with_printed_markup",)),
    # --- mistake catalogs (declared by a decorator; refused by the loader when malformed)
    B("catalog-duplicate-names-kept", "model.py",
      "if m.function == function and m.name == name:", "if False:", ("tests/assignments/test_catalogs.py",)),
    B("catalog-declaration-order-lost", "model.py",
      "return iter(self._mistakes)", "return iter(self._mistakes[::-1])", ("tests/assignments/test_catalogs.py",)),
    B("course-mistakes-not-a-catalog", "course/loading.py",
      "if not isinstance(found, Catalog):", "if found is None:", ("tests/assignments/test_catalogs.py",)),
    B("course-mistake-of-an-unknown-function", "course/loading.py",
      'if f"{m.module}.{m.function}" not in PARAMETER_NAMES]', "if False]", ("tests/assignments/test_catalogs.py",)),
    # --- notebooks and discovery
    B("notebook-experiments-kept", "inputs/notebook.py",
      "return not calls or all(_is_upper(t) for t in targets)", "return True",
      ("tests/inputs/test_notebooks.py::test_definitions_kept_experiments_magics_and_plots_left_out",)),
    B("discover-edited-py-yields-to-notebook", "inputs/discover.py",
      "if existing is not None and hashlib.sha256(existing).hexdigest() != stubs.get(module):", "if False:",
      ("tests/inputs/test_notebooks.py::test_untouched_py_beside_a_notebook_yields_to_the_notebook",)),
    # --- progress
    B("progress-bar-lags", "reports/progress.py",
      "filled = round(bar_w * self.done / self.total)", "filled = round(bar_w * (self.done - 1) / self.total)",
      ("tests/engine/test_batch.py::test_progress_bar_on_a_terminal_redraws_one_line",)),
    # --- spec (how a call is described)
    B("spec-arguments-numbered-from-0", "model.py",
      'names += [f"argument {i + 1}"', 'names += [f"argument {i}"', ("tests/checks/test_judges.py",)),
    # --- build (the check constructors)
    B("build-gradient-bound-x10", "checks/build.py",
      "judge = Gradient(self.call(function, *args, **kwargs), expect, max_relative_error)",
      "judge = Gradient(self.call(function, *args, **kwargs), expect, 10 * max_relative_error)",
      ("tests/checks/test_judges.py",)),
    # --- export
    B("export-timeout-dropped", "engine/gradescope.py",
      '"timeout": timeout}', '"timeout": 10.0}',
      ("tests/engine/test_export.py::test_the_zip_has_setup_and_run_autograder_at_its_root",)),
    # --- sandbox
    B("sandbox-bwrap-falls-back-silently", "isolation/sandbox.py",
      'if mode == "bwrap":\n            raise SandboxError', 'if False:\n            raise SandboxError',
      ("tests/adversarial/test_sandbox.py::test_sandbox_bwrap_without_bwrap_fails_in_one_line",)),
    # --- template
    B("template-solution-kept", "course/solutions.py",
      "        if block is not None:\n            if _LOOKS_LIKE.search(line):",
      "        if False:\n            if _LOOKS_LIKE.search(line):",
      ("tests/course/test_template.py", "tests/course/test_solutions.py")),
    # --- parsing: one thread at a time (python/cpython#106905)
    B("parsing-unlocked", "worker/parsing.py", "    with _LOCK:\n        return ast.parse(",
      "    with __import__('contextlib').nullcontext():\n        return ast.parse(",
      ("tests/worker/test_parsing.py",)),
    # --- calls sent ahead: the worker runs exactly what one call at a time would run
    B("ahead-run-after-an-error", "worker/serve.py",
      'if header.get("ahead") and not (clean and reports() == reported and _follows(header, returned)):',
      "if False:",
      ("tests/isolation/test_ahead.py",)),
    B("ahead-run-after-a-caught-violation", "worker/serve.py",
      "clean = returned is not None and reported == before", "clean = returned is not None",
      ("tests/isolation/test_ahead.py",)),
    B("ahead-budget-ignored", "isolation/runner.py",
      "room = min(self._window, AHEAD_MOST, int(budget // own_limit)) - 1", "room = min(self._window, AHEAD_MOST) - 1",
      ("tests/isolation/test_ahead.py",)),
    B("ahead-twin-only-when-passed", "engine/grading.py",
      "    other = run_check(twin, student, found[\"expected\"])\n"
      "    if not (isinstance(outcome, Verdict) and outcome.passed):\n        return outcome",
      "    if not (isinstance(outcome, Verdict) and outcome.passed):\n        return outcome\n"
      "    other = run_check(twin, student, found[\"expected\"])",
      ("tests/engine/test_sent_ahead.py",)),
    B("ahead-repeatable-declares-one-call", "checks/judges.py",
      "return ((self.call, False), (self.call, False))", "return ((self.call, False),)",
      ("tests/checks/test_planned_calls.py",)),
    B("ahead-unchanged-without-args", "checks/judges.py",
      "return ((self.call, True),)", "return ((self.call, False),)",
      ("tests/checks/test_planned_calls.py",)),
    B("ahead-window-never-shrinks", "isolation/runner.py",
      'self._window = min(AHEAD_MOST, self._window * 2) if status == "ok" else 1', "self._window = AHEAD_MOST",
      ("tests/isolation/test_ahead.py",)),
    B("batch-keeps-every-submission-s-files", "engine/batch.py", "        sub.files = {}\n", "",
      ("tests/gradebook/test_gradebook.py",)),
    B("batch-gradebook-hashes-let-go-files", "engine/batch.py",
      "            hashes[sub.name] = work_hashes(sub, assignments, all_modules)\n", "            pass\n",
      ("tests/gradebook/test_gradebook.py",)),
    # --- the spool: a class's files wait on disk, not in memory
    B("spool-put-keeps-the-files", "inputs/spool.py", "        sub.files = {}\n", "",
      ("tests/inputs/test_spool.py", "tests/engine/test_batch.py")),
    B("batch-reads-the-class-into-memory", "engine/batch.py", "                    spool.put(sub)\n", "",
      ("tests/engine/test_batch.py",)),
    B("spool-take-gives-nothing-back", "inputs/spool.py",
      "sub.files = {name: f.read(length) for name, length in names}", "sub.files = {}",
      ("tests/inputs/test_spool.py", "tests/engine/test_batch.py")),
    B("gradebook-wal-lock-not-waited-for", "gradebook/store.py",
      'if "locked" not in str(exc) or time.monotonic() >= deadline:', "if True:",
      ("tests/gradebook/test_gradebook.py::test_a_gradebook_being_set_up_by_another_run_is_waited_for",)),
    # --- temporary folders: held while in use, swept once their owner is gone
    B("batch-does-not-sweep", "engine/batch.py", "    sweep()  # the temporary", "    pass  # the temporary",
      ("tests/engine/test_batch.py::test_a_batch_killed_with_minus_9_leaves_no_temporary_folder_after_the_next_run",)),
    B("tempdirs-sweep-ignores-the-lock", "tempdirs.py", "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "pass",
      ("tests/test_tempdirs.py",)),
    B("tempdirs-sweep-takes-anyone-s", "tempdirs.py", "if os.fstat(fd).st_uid != os.getuid():", "if False:",
      ("tests/test_tempdirs.py",)),
    # --- relations through a value (an argument or one the reference computes on the way)
    B("relation-result-itself-relates", "checks/diagnosis.py", "itself = any(", "itself = False and any(",
      ("tests/checks/test_diagnosis.py",)),
    B("relation-no-step", "checks/diagnosis.py", "if _scaled(steps, by, power):", "if False:",
      ("tests/checks/test_diagnosis.py",)),
    B("relation-no-offset", "checks/diagnosis.py", "if _shifted(pairs, by, c):", "if False:",
      ("tests/checks/test_diagnosis.py",)),
    B("unnamed-factor-never", "checks/diagnosis.py", 'return [("x?", f"times', 'return [] and [("x?", f"times',
      ("tests/checks/test_diagnosis.py",)),
    B("unnamed-factor-leaves-any-share", "checks/diagnosis.py", "<= UNNAMED_LEFT * np.max", "<= 1e9 * np.max",
      ("tests/checks/test_diagnosis.py",)),
    B("float32-steps-held-to-float64", "checks/diagnosis.py", "worst = max(worst, 4 *", "worst = max(worst, 0 *",
      ("tests/checks/test_diagnosis.py",)),
    B("one-key-dict-relates-nothing", "checks/diagnosis.py", "    if not wrong:\n        return []\n",
      "    if not wrong or len(exp) <= 1:\n        return []\n", ("tests/checks/test_diagnosis.py",)),
    B("intermediates-no-0d-numbers", "course/loading.py",
      'return value.shape == () and value.dtype.kind in "iuf"', "return False",
      ("tests/checks/test_diagnosis.py",)),
    B("own-raise-any-statement", "checks/diagnosis.py", 'if not re.match(r"raise\\s+ValueError\\b", source.strip()):',
      "if False:", ("tests/checks/test_diagnosis.py",)),
    B("own-raise-any-error", "checks/diagnosis.py", 'if not frames or not message.startswith("ValueError:"):',
      "if not frames:", ("tests/checks/test_diagnosis.py",)),
    B("property-relates-nothing", "checks/judges.py",
      'if reference is not None and difference(got, reference["value"], VALUE) is not None:', "if False:",
      ("tests/checks/test_diagnosis.py::test_a_property_check_relates_its_failure_to_the_references_output",
       "tests/checks/test_judges.py")),
    B("property-reference-frozen", "course/loading.py", '"raising", "reference", "defaults")', '"raising", "defaults")',
      ("tests/checks/test_judges.py",)),
    B("zero-division-contradicts", "checks/diagnosis.py",
      'if not message.startswith("ZeroDivisionError") or expected is None:', "if True:",
      ("tests/checks/test_diagnosis.py",)),
    B("zero-intermediates-dropped", "course/loading.py",
      "zero = isinstance(plain, (int, float)) and not isinstance(plain, bool) and plain == 0", "zero = False",
      ("tests/checks/test_diagnosis.py::test_a_division_by_a_sum_that_is_0_on_one_input_is_named_through_the_others",)),
    B("path-steps-without-intermediates", "checks/judges.py",
      'for extra in ("neighbors", "intermediates"):', 'for extra in ("neighbors",):',
      ("tests/checks/test_diagnosis.py::test_a_step_scaled_by_a_value_on_the_way_is_named_on_the_path_too",)),
    B("where-through-nothing", "checks/diagnosis.py",
      'for scope, g, e in _differing(got, expected.get("value")) if values else ():', "for scope, g, e in ():",
      ("tests/checks/test_diagnosis.py::test_wrong_entries_only_where_a_value_on_the_way_is_0_are_named",)),
    B("offset-no-squares", "checks/diagnosis.py", "elif _shifted(pairs, squares, c):", "elif False:",
      ("tests/checks/test_diagnosis.py::"
       "test_a_result_shifted_by_the_square_of_a_value_on_the_way_is_named",)),
    B("inf-contradicts-reciprocal", "checks/diagnosis.py",
      "    if _finite(got) or not _finite(exp):\n        return []", "    return []",
      ("tests/checks/test_diagnosis.py",)),
    B("defaults-name-nothing", "checks/diagnosis.py", "    if left:  # the numbers left to their defaults",
      "    if False:  # the numbers left to their defaults",
      ("tests/checks/test_diagnosis.py::test_a_factor_named_by_an_argument_left_to_its_default_is_named",)),
    B("division-by-zero-entries-ignored", "checks/diagnosis.py",
      "if zero.all() or np.isfinite(g[zero]).any() or not _equal(g[~zero], target[~zero]):", "if True:",
      ("tests/checks/test_diagnosis.py::test_a_division_by_an_argument_with_zeros_is_proven_by_the_other_entries",)),
    B("missing-axis-contradicts", "checks/diagnosis.py",
      'if not message.startswith("IndexError: tuple index out of range"):', "if True:",
      ("tests/checks/test_diagnosis.py::test_a_mean_over_an_axis_a_1d_input_lacks_is_named_through_the_others",)),
    B("where-through-keeps-zeros", "checks/diagnosis.py",
      "if not wrong.any() or np.array_equal(~wrong, ea == 0):", "if not wrong.any():",
      ("tests/checks/test_diagnosis.py::test_a_pattern_through_a_value_on_the_way_that_only_keeps_zeros_is_not_stated",)),
    B("table-case-raising-says-nothing", "engine/grading.py",
      "expected = case_expected(check.judge, expected, call)", "pass", ("tests/checks/test_diagnosis.py",)),
    # --- a trajectory's steps sent ahead along the reference's path
    B("path-condition-ignored", "worker/serve.py",
      "return wanted is None or (returned is not None and codec.digest(returned) == wanted)", "return True",
      ("tests/isolation/test_ahead.py",)),
    B("path-judge-stays-on-the-path", "checks/judges.py",
      "on_path = on_path and k + 1 < len(path) and codec.same(got, path[k + 1].after)",
      "on_path = k + 1 < len(path)",
      ("tests/checks/test_planned_calls.py",)),
    B("path-off-the-path-is-a-plan-miss", "isolation/runner.py",
      "            elif sent.planned.on_path:\n", "            elif False:\n",
      ("tests/isolation/test_ahead.py",)),
    B("path-same-ignores-zero-sign", "worker/codec.py",
      'return struct.pack("<d", a) == struct.pack("<d", b) or (a != a and b != b)',
      "return a == b or (a != a and b != b)",
      ("tests/worker/test_codec.py",)),
    # --- variants: reciprocals of arrays and integers
    B("variants-no-array-reciprocal", "checks/variants.py",
      "    if _invertible(a):\n        return 1.0 / a", "    if False:\n        return 1.0 / a",
      ("tests/checks/test_diagnosis.py",)),
    B("variants-no-integer-reciprocal", "checks/variants.py",
      "if _is_int(a) and 1 < abs(int(a)) <= NEIGHBOR_MAX:", "if False:",
      ("tests/checks/test_diagnosis.py",)),
    # --- commonplace values, inputs that prove nothing, values of few kinds (2026-12-02)
    B("commonplace-variant-proves", "checks/diagnosis.py",
      "strong=informative(g), proven=not _commonplace(v, call),", "strong=informative(g), proven=True,",
      ("tests/checks/test_diagnosis.py::test_an_equality_with_zeros_or_an_untouched_argument_proves_no_variant_and_no_value_on_the_way",
       "tests/checks/test_diagnosis.py::test_an_update_that_never_happens_is_not_stated_as_a_sign_error")),
    B("commonplace-intermediate-proves", "checks/diagnosis.py",
      "proven=not _commonplace(value, call), subject=_what(label or scope)))",
      "proven=True, subject=_what(label or scope)))",
      ("tests/checks/test_diagnosis.py::test_an_equality_with_zeros_or_an_untouched_argument_proves_no_variant_and_no_value_on_the_way",)),
    B("commonplace-zeros-not-commonplace", "checks/diagnosis.py",
      "    return _zeros(value) or any(", "    return False or any(",
      ("tests/checks/test_diagnosis.py::test_an_equality_with_zeros_or_an_untouched_argument_proves_no_variant_and_no_value_on_the_way",)),
    B("unchanged-round-numbers-prove", "checks/diagnosis.py",
      "scope, strong=informative(g), proven=informative(g),", "scope, strong=informative(g), proven=True,",
      ("tests/checks/test_diagnosis.py::test_an_update_that_never_happens_is_not_stated_as_a_sign_error",)),
    B("unchanged-never-found", "checks/diagnosis.py",
      "        for name, value in arguments(call):\n            if _is_start(value) and",
      "        for name, value in ():\n            if _is_start(value) and",
      ("tests/checks/test_diagnosis.py::test_parameters_returned_as_given_are_stated_as_such",)),
    B("uninformative-input-neutral", "checks/judges.py",
      "        return replace(verdict, findings=tuple(replace(f, proven=False) for f in verdict.findings))",
      "        return replace(verdict, findings=(), related=False)",
      ("tests/checks/test_diagnosis.py::test_an_input_that_cannot_tell_mistakes_apart_contradicts_a_catalogued_mistake_it_does_not_show",
       "tests/checks/test_diagnosis.py::test_an_update_never_made_where_b_is_not_negative_is_not_stated_as_unchanged")),
    B("all-zero-expected-proves", "checks/diagnosis.py",
      "    return any(np.any(e != 0) for _, e in pairs)", "    return True",
      ("tests/checks/test_diagnosis.py",)),
    B("integer-arrays-name-nothing", "checks/diagnosis.py",
      'value.dtype.kind in "fiu" or', 'value.dtype.kind == "f" or',
      ("tests/checks/test_diagnosis.py",)),
    B("parse-every-time", "worker/policy.py",
      "    return _imports_cached(source) if len(source) <= CACHED_SOURCE_BYTES else _imports_of(source)",
      "    return _imports_of(source)",
      ("tests/worker/test_policy_scan.py",)),
    B("template-not-launched-ahead", "engine/batch.py",
      "with slots.ahead(isolation, limits):", "with slots.ahead(None, limits):",
      ("tests/adversarial/test_worker_templates.py",)),
    # --- where a function fails (2026-12-02)
    B("where-any-witness", "checks/findings.py",
      "if fact not in have and rest <= have]", "if fact not in have]",
      ("tests/checks/test_diagnosis.py",)),
    B("where-property-witness", "checks/judges.py",
      "    return WHOLE if isinstance(judge, (Close, Gradient, DirectionalGradient, Trajectory)) else None",
      "    return WHOLE",
      ("tests/checks/test_diagnosis.py",)),
    B("where-data-numbers-named", "checks/cases.py",
      "        if not setting or not np.isfinite(value):", "        if not np.isfinite(value):",
      ("tests/checks/test_diagnosis.py",)),
    B("where-more-than-one-entry-unnamed", "checks/cases.py",
      'f"`{name}` has more than 1 entry"]', "]",
      ("tests/checks/test_diagnosis.py::test_a_mistake_in_the_loop_over_hidden_layers_is_stated_as_failing_with_more_than_one_layer",)),
    B("where-student-made-call-named", "engine/grading.py",
      "(call,) if any(call is c for c in judged) else judged", "(call,) if call is not None else judged",
      ("tests/checks/test_diagnosis.py::test_a_call_made_of_the_students_outputs_counts_as_the_checks_own_call",)),
    B("notebook-cell-compiles-unchecked", "inputs/notebook.py",
      "        compiles(tree)\n", "        pass\n",
      ("tests/inputs/test_notebooks.py",)),
    B("where-integer-settings-named", "checks/cases.py",
      "isinstance(defaults.get(name), float)", "name in defaults", ("tests/checks/test_diagnosis.py",)),
    B("where-part-proves-the-whole", "checks/findings.py",
      'if e.compared == "" or e.compared is not None and parts == {e.compared} for c in e.right_on]',
      'if e.compared is not None for c in e.right_on]',
      ("tests/checks/test_diagnosis.py",)),
    B("where-table-passing-cases-unused", "checks/judges.py",
      "                right_on += judged_calls(j)", "                pass",
      ("tests/checks/test_diagnosis.py",)),
    B("where-table-all-cases-failed", "checks/judges.py",
      "failed_on += v.failed_on or judged_calls(j)", "failed_on += judged_calls(self)",
      ("tests/checks/test_diagnosis.py",)),
    B("where-degenerate-proves", "checks/findings.py",
      "if len(proofs) >= 2 or not all(proofs):", "if proofs:",
      ("tests/checks/test_diagnosis.py",)),
    B("where-unrun-counts", "engine/grading.py",
      "    ran = () if outcome.kind not in RAN else", "    ran = () if False else",
      ("tests/checks/test_diagnosis.py::test_checks_not_run_after_a_hang_say_nothing_of_where_it_fails",)),
    B("where-timeout-ignored", "engine/grading.py",
      "RAN = (Problem.EXCEPTION, Problem.TIMEOUT, Problem.CRASH, Problem.BAD_OUTPUT)",
      "RAN = (Problem.EXCEPTION,)",
      ("tests/checks/test_diagnosis.py::test_inputs_where_the_code_hangs_are_inputs_it_fails_on",)),
    B("where-defaults-unread", "model.py",
      "a.arg: d.value for a, d in given if isinstance(d, ast.Constant)}", "}",
      ("tests/checks/test_diagnosis.py",)),
    B("ahead-launched-twice", "isolation/slots.py",
      "        wanted = False  # launched already for this isolation",
      "        pass  # launched already for this isolation",
      ("tests/adversarial/test_worker_templates.py::test_a_template_launched_ahead_for_the_same_isolation_is_the_one_adopted",
       "tests/adversarial/test_worker_templates.py::test_grade_run_on_one_submission_starts_one_template_launched_while_the_probe_runs")),
    B("ahead-not-before-the-probe", "cli/commands.py",
      "likely = None if cluster_spec else sandbox.likely(sandbox_mode)", "likely = None",
      ("tests/adversarial/test_worker_templates.py::test_grade_run_on_one_submission_starts_one_template_launched_while_the_probe_runs",)),
    B("likely-for-a-user-s-new-bwrap", "isolation/sandbox.py",
      "    if os.geteuid() != 0 and _bwrap_version() >= (0, 8):\n        return None",
      "    if False:\n        return None",
      ("tests/adversarial/test_worker_templates.py::test_the_likely_isolation_is_the_probe_s_where_nothing_else_the_probe_finds_changes_a_launch",)),
    B("stops-early-not-one-short", "checks/diagnosis.py",
      "    if 1 <= k < n and _equal(got, exp[:k]):", "    if 1 <= k < n - 1 and _equal(got, exp[:k]):",
      ("tests/checks/test_diagnosis.py::test_a_sequence_cut_short_by_one_step_on_one_input_and_more_on_another_stops_too_early",)),
    B("implied-fact-stated-too", "checks/findings.py",
      "            continue  # the precise fact is stated", "            pass  # the precise fact is stated",
      ("tests/checks/test_diagnosis.py::test_a_sequence_cut_short_by_one_step_on_one_input_and_more_on_another_stops_too_early",)),
    B("no-constant-times-quantity", "checks/diagnosis.py",
      "        for c in COMBINED_CONSTANTS:", "        for c in ():",
      ("tests/checks/test_diagnosis.py::test_a_quantity_with_a_factor_of_two_about_it_is_named",
       "tests/checks/test_diagnosis.py::test_a_constant_times_a_quantity_is_named_and_a_plain_constant_keeps_its_name")),
    B("combined-namings-first", "checks/diagnosis.py",
      "    for c in SMALL_CONSTANTS:\n        named.append(", "    for c in ():\n        named.append(",
      ("tests/checks/test_diagnosis.py::test_a_constant_times_a_quantity_is_named_and_a_plain_constant_keeps_its_name",)),
    B("together-unsought", "checks/diagnosis.py",
      "    findings += _together_findings(got, exp, call) if not label else []",
      "    findings += []",
      ("tests/checks/test_diagnosis.py::test_returned_values_scaled_by_one_shared_number_are_stated_together",)),
    B("together-any-factor", "checks/diagnosis.py",
      "if all(_equal(a, c * b) for a, b in pairs)]", "if any(_equal(a, c * b) for a, b in pairs)]",
      ("tests/checks/test_diagnosis.py::test_values_scaled_by_different_numbers_are_not_stated_together",)),
    B("together-restated-per-part", "checks/findings.py",
      "        return bool(whole) and whole[0].key == f.key", "        return False",
      ("tests/checks/test_diagnosis.py::test_returned_values_scaled_by_one_shared_number_are_stated_together",)),
    B("wrong-value-unsought", "checks/diagnosis.py",
      "        if _equal(got[wrong], np.full(n_wrong, v), slack=",
      "        if False and _equal(got[wrong], np.full(n_wrong, v), slack=",
      ("tests/checks/test_diagnosis.py::test_wrong_entries_that_all_hold_one_number_are_named",)),
    B("wrong-value-one-entry", "checks/diagnosis.py",
      "    if 2 <= n_wrong < got.size and np.isfinite(got).all():\n        v = float(",
      "    if 1 <= n_wrong < got.size and np.isfinite(got).all():\n        v = float(",
      ("tests/checks/test_diagnosis.py::test_wrong_entries_of_different_values_or_one_wrong_entry_name_no_value",)),
    B("affine-on-two-values", "checks/diagnosis.py",
      "or np.unique(exp).size < 3:", "or np.unique(exp).size < 2:",
      ("tests/checks/test_diagnosis.py::test_an_affine_relation_is_named_on_three_distinct_values_and_only_as_it_holds",)),
    B("affine-unchecked", "checks/diagnosis.py",
      "                                                                          slack=FACTOR_RTOL):",
      "                                                                          slack=1.0):",
      ("tests/checks/test_diagnosis.py::test_an_affine_relation_is_named_on_three_distinct_values_and_only_as_it_holds",)),
    B("affine-any-spread", "checks/diagnosis.py",
      "    if not e[hi] - e[lo] > 40 * tol:", "    if not e[hi] - e[lo] > 0 * tol:",
      ("tests/checks/test_diagnosis.py::test_an_affine_relation_is_named_on_three_distinct_values_and_only_as_it_holds",)),
    B("twin-evidence-dropped", "engine/grading.py",
      "                        more.append(_evidence(twin, other, found[\"expected\"]))",
      "                        pass",
      ("tests/checks/test_diagnosis.py::test_the_hidden_twin_of_a_failing_visible_check_is_a_second_input_that_confirms",)),
    B("twin-evidence-twice", "engine/grading.py",
      "if other is not None and outcome is own:", "if other is not None:",
      ("tests/checks/test_diagnosis.py::test_a_twin_that_replaces_its_visible_check_s_outcome_is_not_counted_twice",)),
    B("parts-right-unread", "checks/diagnosis.py",
      "    if not right:\n        return []", "    if True:\n        return []",
      ("tests/checks/test_diagnosis.py::test_of_several_returned_values_the_right_ones_are_named",)),
    B("parts-right-by-chance", "checks/diagnosis.py",
      "strong=informative([exp[i] for i in right])", "strong=True",
      ("tests/checks/test_diagnosis.py::test_which_returned_values_are_right_is_a_fact_of_every_failing_input",)),
    B("dict-pattern-one-right-entry", "checks/diagnosis.py",
      "n_wrong >= 2 and n_right >= 2, subject=what", "n_wrong >= 2, subject=what",
      ("tests/checks/test_diagnosis.py::test_a_pattern_of_dict_entries_rests_on_several_wrong_and_several_right_entries",)),
    B("matmul-left-ambiguous", "checks/diagnosis.py",
      "right + (left if len(left) == 1 and not line else [])", "right + left",
      ("tests/checks/test_diagnosis.py::test_the_left_operand_is_named_only_when_one_pair_fits_or_the_line_names_it",)),
    B("matmul-other-line-ignored", "checks/diagnosis.py",
      "len(left) == 1 and not line else", "len(left) == 1 else",
      ("tests/checks/test_diagnosis.py::test_the_left_operand_is_named_only_when_one_pair_fits_or_the_line_names_it",)),
    B("matmul-line-unread", "checks/diagnosis.py",
      "    fitting = named or right", "    fitting = right",
      ("tests/checks/test_diagnosis.py::test_the_left_operand_is_named_only_when_one_pair_fits_or_the_line_names_it",)),
]


def _copy_checkout(dest: Path) -> None:
    caches = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                    ".pytest_cache", ".benchmarks", ".ruff_cache", ".venv")

    def ignore(folder: str, names: list[str]) -> set[str]:
        # a top-level reports/ is the README command's output; grader/reports/ and tests/reports/ are code
        return set(caches(folder, names)) | ({"reports"} if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def _pytest(copy: Path, tests: list[str], timeout: float) -> tuple[int, str]:
    """Run `tests` in `copy`; returns (exit status, last lines of output)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:g} s"
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-4:])
    return proc.returncode, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only the breakages whose id contains this")
    parser.add_argument("--list", action="store_true", help="print the table and stop")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per pytest run")
    args = parser.parse_args(argv)
    chosen = [b for b in BREAKAGES if args.k in b.id]
    if args.list:
        for b in chosen:
            print(f"{b.id:40} grader/{b.file:22} {' '.join(b.tests)}")
        return 0
    problems = 0
    for b in chosen:
        count = (ROOT / "grader" / b.file).read_text().count(b.old)
        if count != 1:
            print(f"MOVED    {b.id}: the old text occurs {count} times in grader/{b.file}; re-anchor it")
            problems += 1
    if problems:
        return 1
    with tempfile.TemporaryDirectory(prefix="mutation-check-") as tmp:
        copy = Path(tmp) / "checkout"
        _copy_checkout(copy)
        every = sorted({t for b in chosen for t in b.tests})
        started = time.monotonic()
        status, tail = _pytest(copy, every, args.timeout)
        if status != 0:
            print(f"The unbroken code fails its tests, so no breakage can be judged:\n{tail}")
            return 1
        print(f"unbroken: {len(every)} test selections pass ({time.monotonic() - started:.0f} s)")
        missed = []
        for b in chosen:
            path = copy / "grader" / b.file
            original = path.read_text()
            path.write_text(original.replace(b.old, b.new, 1))
            started = time.monotonic()
            try:
                status, tail = _pytest(copy, list(b.tests), args.timeout)
            finally:
                path.write_text(original)
            took = time.monotonic() - started
            if status == 0:
                missed.append(b.id)
                print(f"MISSED   {b.id} ({took:.0f} s): {' '.join(b.tests)} still pass")
            else:
                failed = [ln for ln in tail.splitlines() if ln.startswith(("FAILED", "ERROR"))]
                last = (failed or tail.splitlines() or [""])[0]
                print(f"caught   {b.id} ({took:.0f} s): {last}")
    print(f"{len(chosen) - len(missed)} of {len(chosen)} breakages caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
