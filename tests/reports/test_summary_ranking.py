"""The class summary's rankings: bars grow with the passes, ties in a fixed order, answers only."""

from __future__ import annotations

import random
import re

from grader.model import CheckResult, SubmissionResult
from grader.reports.summary import glance, summarize, summary_html, summary_markdown


def _c(name: str, passed: bool, mistake: str | None = None, problem: str | None = None) -> CheckResult:
    module, rest = name.split(".", 1)
    return CheckResult("a", name, module, rest.split(":")[0], 1.0, float(passed), True, passed,
                       message="" if passed else "called f()\nwrong", mistake=mistake, problem=problem)


def _sub(who: str, *checks: CheckResult) -> SubmissionResult:
    return SubmissionResult(who, list(checks), 0.1)


def _glance_line(lines: list[str], start: str) -> str:
    found = [ln for ln in lines if ln.startswith(start)]
    assert len(found) == 1, lines
    return found[0]


def test_pass_rate_bars_grow_with_the_passes():
    # m.f: 3 of 4 passed, m.g: 1 of 4 passed
    results = [_sub(f"s{i}", _c("m.f: x", i < 3), _c("m.g: y", i < 1)) for i in range(4)]
    html = summary_html(summarize(results, [("a", 2.0)]))
    rows = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"<td>(m\.[fg]: [xy])</td>.*?width:(\d+)px;background:#2e7d32", html)}
    assert rows == {"m.f: x": 45, "m.g: y": 15}  # 60 px for all passed: 3/4 -> 45, 1/4 -> 15
    assert "the longer, the more passed" in html


def test_checks_failed_only_by_missing_files_are_not_called_misunderstood():
    missing = dict(problem="missing-module")
    results = [
        _sub("a", _c("m.f: x", True), _c("m.g: y", True)),
        _sub("b", _c("m.f: x", False, **missing), _c("m.g: y", False)),
        _sub("c", _c("m.f: x", False, **missing), _c("m.g: y", True)),
        _sub("d", _c("m.f: x", False, **missing), _c("m.g: y", True)),
    ]
    s = summarize(results, [("a", 2.0)])
    line = _glance_line(glance(s), "Most wrong answers")
    assert "m.g: y (1 of 4 wrong)" in line
    assert "m.f: x" not in line  # 25% passed, but every answer it got was right
    assert [c.name for c in s.checks] == ["m.g: y", "m.f: x"]


def test_mistakes_made_once_are_not_ranked_in_the_glance():
    results = [_sub(w, _c("m.f: x", False, mistake=f"mistake {w}")) for w in "dcba"]
    lines = glance(summarize(results, [("a", 1.0)]))
    assert not any(ln.startswith("Most common mistakes") for ln in lines)
    assert "No named mistake was made by more than one submission (4 made by one" in "\n".join(lines)


def test_ties_at_the_cut_are_all_named_in_a_fixed_order():
    # counts: zeta 3, then beta, alpha, delta 2 each (a tie for the third place), omega 1
    made = {"zeta": 3, "beta": 2, "alpha": 2, "delta": 2, "omega": 1}
    results = []
    for mistake, n in made.items():
        results += [_sub(f"{mistake}{i}", _c("m.f: x", False, mistake=mistake)) for i in range(n)]
    expected = ("Most common mistakes (submissions): zeta in m.f (3); alpha in m.f (2); beta in m.f (2); "
                "delta in m.f (2).")
    for seed in range(5):
        random.Random(seed).shuffle(results)
        s = summarize(results, [("a", 1.0)])
        assert _glance_line(glance(s), "Most common mistakes") == expected
        assert [m.name for m in s.mistakes] == ["zeta", "alpha", "beta", "delta", "omega"]


def test_the_rankings_do_not_depend_on_the_order_of_the_submissions():
    results = []
    for i in range(12):
        results.append(_sub(f"s{i:02d}", _c("m.f: x", i % 3 == 0, mistake=None if i % 3 == 0 else f"k{i % 2}"),
                            _c("m.g: y", i % 4 == 0), _c("m.h: z", i % 2 == 0),
                            _c("m.k: t", i % 5 != 0 and i != 3,
                               problem="crash" if i == 3 else None if i % 5 else ("timeout", "import-error")[i % 2])))
    pages = set()
    for seed in range(4):
        shuffled = list(results)
        random.Random(seed).shuffle(shuffled)
        s = summarize(shuffled, [("a", 3.0)])
        md = summary_markdown(s)
        pages.add(md.split("## At a glance")[1].split("## Timed out")[0])  # the rankings, not the lists by name
        assert "Look by hand: 1 with a crash, 2 with a timeout, 1 with import-error." in md
        assert [c.name for c in s.checks] == ["m.g: y", "m.f: x", "m.h: z", "m.k: t"]  # 9, 8, 6, 0 of 12 wrong
    assert len(pages) == 1


# ---------------------------------------------------------------- counted as they come


def _old_summarize(results, assignments):
    """`summarize` as it was before it counted one submission at a time (d8c8119), verbatim but
    for the names: the oracle of the test below."""
    from collections import Counter, defaultdict

    from grader.reports.summary import RULE_PROBLEMS, SETUP_PROBLEMS, CheckStats, MistakeStats, _first_line

    by_check, mistakes, breakers, not_run = {}, {}, [], defaultdict(list)
    for r in results:
        seen = set()
        for c in r.checks:
            s = by_check.setdefault(c.name, CheckStats(c.name, c.assignment, c.visible, 0, 0, Counter()))
            s.graded += 1
            s.passed += c.passed
            s.wrong += not c.passed and c.problem is None
            if c.mistake and not c.passed:
                s.mistakes[c.mistake] += 1
                key = (c.mistake, f"{c.module}.{c.function}")
                m = mistakes.setdefault(key, MistakeStats(c.mistake, key[1], (c.hint or "").strip(), 0, 0))
                m.checks += 1
                if key not in seen:
                    seen.add(key)
                    m.submissions += 1
        kinds = Counter(c.problem for c in r.checks if c.problem in RULE_PROBLEMS)
        if kinds:
            first = next(c for c in r.checks if c.problem in RULE_PROBLEMS)
            breakers.append((r.submission, kinds, _first_line(first)))
        for kind in SETUP_PROBLEMS:
            if any(c.problem == kind for c in r.checks):
                not_run[kind].append(r.submission)
    hardcoded = [(r.submission, [c.name for c in r.checks if c.hardcoded])
                 for r in results if any(c.hardcoded for c in r.checks)]
    checks = sorted(by_check.values(), key=lambda s: (-s.wrong_rate, -s.wrong, s.rate, s.assignment, s.name))
    ranked = sorted(mistakes.values(), key=lambda m: (-m.submissions, -m.checks, m.name, m.function))
    return checks, ranked, breakers, dict(not_run), hardcoded


def _random_class(rng: random.Random, n: int) -> list[SubmissionResult]:
    names = ["m.f: x", "m.f: y", "m.g: z", "n.h: w"]
    results = []
    for i in range(n):
        checks = []
        for name in names:
            roll = rng.random()
            if roll < 0.4:
                checks.append(_c(name, True))
                continue
            problem = rng.choice([None, None, "timeout", "crash", "policy", "import-error", "missing-module"])
            mistake = rng.choice([None, "sign", "axis"]) if problem is None else None
            c = _c(name, False, mistake, problem)
            c.hint = f"hint {rng.randint(0, 2)} for {mistake}" if mistake else None
            c.hardcoded = problem is None and rng.random() < 0.2
            c.message = f"called f({i})\n{problem or 'wrong'} number {rng.randint(0, 9)}"
            checks.append(c)
        results.append(_sub(f"s{i:03d}-{rng.randint(0, 999)}", *checks))
    return results


def test_a_class_counted_as_it_finishes_summarizes_as_the_sorted_class_did_before():
    from grader.reports.summary import Summarizer

    rng = random.Random(14)
    for _ in range(30):
        results = _random_class(rng, rng.randint(1, 12))
        ordered = sorted(results, key=lambda r: r.submission)
        before = _old_summarize(ordered, [("a", 4.0)])
        now = summarize(ordered, [("a", 4.0)])
        assert (now.checks, now.mistakes, now.rule_breakers, now.not_run, now.hardcoded) == before
        arriving = Summarizer(by_name=True)
        for r in rng.sample(results, len(results)):  # in the order a batch's threads finish
            arriving.add(r)
        streamed = arriving.summary([("a", 4.0)])
        assert (streamed.checks, streamed.mistakes, streamed.rule_breakers, streamed.not_run,
                streamed.hardcoded) == before
        assert [r.submission for r in streamed.results] == [r.submission for r in ordered]
        assert [r.score for r in streamed.results] == [r.score for r in ordered]
        assert summary_markdown(streamed, None) == summary_markdown(now, None)
        assert summary_html(streamed) == summary_html(now)
