"""Mutation benchmark of the feedback: how many single-edit mutants of the reference are caught,
how many get a diagnosis, and how many of those diagnoses are true.

    python benchmarks/mutation_diagnosis.py                 # every module of course.toml
    python benchmarks/mutation_diagnosis.py -m forward -n 40 --show-false

Mutants are made by a small AST mutator (below) inside the reference's solution bodies: an
arithmetic or comparison operator swapped, a number moved by one or doubled or halved, a `.T`
dropped, an `axis` or `keepdims` changed, a slice bound or a `range` end moved by one, two
positional arguments swapped, a unary minus dropped. Each mutant is graded by the real pipeline
(the sandboxed worker, the course's checks, the diagnosis) on its assignment alone.

- caught: the mutant loses points.
- equivalent: not caught, and its function returns the reference's output (within the checks'
  tolerance) on fresh inputs: the checks' own inputs shuffled as the hidden twins shuffle them
  (`grader.checks.twins.fresh_call`, three draws per check). A mutant that is not caught but differs on
  a fresh input is reported as missed.
- diagnosed: a failing check of the mutated function carries a diagnosis or names a catalogued
  mistake.
- true / false / unverified: each diagnosed mutant is called again on the fresh inputs. A fact is
  true when, on every fresh input where the mutant's output differs from the reference's, the
  same fact is found again (a factor stays that factor, a catalogued mistake's implementation
  gives the mutant's output); false when some such input contradicts it; unverified when no
  fresh input makes the mutant differ.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks.cases import features  # noqa: E402
from grader.checks.compare import VALUE  # noqa: E402
from grader.checks.diagnosis import catalog_findings, error_findings, part_subject, value_findings  # noqa: E402
from grader.checks.findings import AND, ONLY_WHERE  # noqa: E402
from grader.checks.judges import Close, Gradient, Part, Sequence  # noqa: E402
from grader.checks.twins import fresh_call  # noqa: E402
from grader.course.loading import Course, Reference  # noqa: E402
from grader.engine.grading import grade_submission  # noqa: E402
from grader.inputs.discover import Submission  # noqa: E402
from grader.isolation.runner import Limits, StudentProcess  # noqa: E402
from grader.model import Call, Problem, StudentError  # noqa: E402

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
         ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq}
FRESH_SEEDS = (7, 11, 13)


@dataclass
class Mutant:
    module: str
    function: str
    kind: str
    line: int
    before: str
    after: str
    source: str


def _solution_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def _edits(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """`(kind, replacement)` for every single edit of `node` itself."""
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
        new = copy.deepcopy(node)
        new.op = SWAPS[type(node.op)]()
        out.append(("operator", new))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPS:
        new = copy.deepcopy(node)
        new.ops = [SWAPS[type(node.ops[0])]()]
        out.append(("comparison", new))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        v = node.value
        values = [v + 1, v - 1] if isinstance(v, int) else ([v * 2, v / 2] if v else [1.0])
        out += [("constant", ast.Constant(x)) for x in values]
    if isinstance(node, ast.Attribute) and node.attr == "T":
        out.append(("transpose", copy.deepcopy(node.value)))
    if isinstance(node, ast.keyword) and node.arg in ("axis", "keepdims") and isinstance(node.value, ast.Constant):
        v = node.value.value
        for x in ({0: [1], 1: [0], -1: [0]}.get(v, []) if node.arg == "axis" else [not v]):
            out.append((node.arg, ast.keyword(node.arg, ast.Constant(x))))
    if isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            b = getattr(node, bound)
            if b is not None:
                for d in (1, -1):
                    new = copy.deepcopy(node)
                    setattr(new, bound, ast.BinOp(copy.deepcopy(b), ast.Add(), ast.Constant(d)))
                    out.append(("slice", new))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
        for d in (1, -1):
            new = copy.deepcopy(node)
            new.args[-1] = ast.BinOp(copy.deepcopy(node.args[-1]), ast.Add(), ast.Constant(d))
            out.append(("range", new))
    if isinstance(node, ast.Call) and len(node.args) == 2 and not node.keywords:
        new = copy.deepcopy(node)
        new.args = new.args[::-1]
        out.append(("swap", new))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("sign", copy.deepcopy(node.operand)))
    return out


REDUCTIONS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max"}
"""`--extra`: a NumPy reduction swapped for its sibling (`np.sum` for `np.mean`, `.max()` for `.min()`)"""


def _extra_edits(node: ast.AST, defined: list[str]) -> list[tuple[str, ast.AST]]:
    """`--extra` edits, beyond the issue's list: a variable read where another of the function's
    names was meant (`defined`: its parameters and the names assigned before this line), and a
    reduction swapped for its sibling (`REDUCTIONS`)."""
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in defined:
        out += [("name", ast.Name(other, ast.Load())) for other in defined if other != node.id]
    if isinstance(node, ast.Attribute) and node.attr in REDUCTIONS:
        new = copy.deepcopy(node)
        new.attr = REDUCTIONS[node.attr]
        out.append(("reduction", new))
    return out


def _defined_before(fn: ast.FunctionDef, line: int) -> list[str]:
    """The function's parameters and the plain names it assigns on lines before `line`, in order."""
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.lineno < line \
                and node.id not in names:
            names.append(node.id)
    return names


def mutants_of(module: str, source: str, extra: bool = False) -> list[Mutant]:
    """Every single-edit mutant of the public functions of `source` (docstrings left alone);
    with `extra`, the edits of `_extra_edits` instead."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    out = []
    for fn in _solution_functions(tree):
        body = fn.body[1:] if fn.body and isinstance(fn.body[0], ast.Expr) and \
            isinstance(getattr(fn.body[0], "value", None), ast.Constant) else fn.body
        for stmt in body:
            for node in ast.walk(stmt):
                if not hasattr(node, "lineno") or isinstance(node, ast.keyword) and node.end_lineno is None:
                    continue
                edits = _extra_edits(node, _defined_before(fn, node.lineno)) if extra else _edits(node)
                for kind, new in edits:
                    start = offsets[node.lineno - 1] + node.col_offset
                    end = offsets[node.end_lineno - 1] + node.end_col_offset
                    before = source[start:end]
                    after = ast.unparse(new)
                    if isinstance(node, ast.BinOp) or isinstance(new, ast.BinOp):
                        after = f"({after})"
                    mutated = source[:start] + after + source[end:]
                    try:
                        ast.parse(mutated)
                    except SyntaxError:
                        continue
                    out.append(Mutant(module, fn.name, kind, node.lineno, before, after, mutated))
    return out


@dataclass
class Outcome:
    mutant: Mutant
    caught: bool
    diagnosed: bool = False
    texts: list[str] = field(default_factory=list)
    verdict: str = ""
    """equivalent | missed | true | false | unverified | (empty: caught, no diagnosis)"""
    judge_errors: list[str] = field(default_factory=list)
    """checks the grader could not judge on this mutant (a bug of the grader, never of the mutant)"""
    only_where: bool = False
    """the diagnosis says only where the function fails (which inputs), nothing of what it returns"""


def _value_calls(judge) -> list[tuple[Call, object]]:
    """`(call, tolerance)` of the value judges inside `judge`, with the part index if any."""
    if isinstance(judge, Sequence):
        return [c for j in judge.judges for c in _value_calls(j)]
    if isinstance(judge, Part):
        return [(call, (judge.index, tol)) for call, (_, tol) in _value_calls(judge.inner)]
    inner = getattr(judge, "inner", None)
    if inner is not None:
        return _value_calls(inner)
    if isinstance(judge, Close):
        return [(judge.call, (None, judge.tol))]
    if isinstance(judge, Gradient):
        return [(judge.call, (None, VALUE))]
    return []


def _fresh_calls(assignment, function: str) -> list[tuple[Call, object]]:
    calls = []
    for check in assignment.checks:
        if check.function != function:
            continue
        for call, how in _value_calls(check.judge):
            calls += [(fresh_call(call, seed), how) for seed in FRESH_SEEDS]
    return calls


def _part(value, index):
    return value[index] if index is not None and isinstance(value, (list, tuple)) and len(value) > index else value


def verify(outcome: Outcome, result, assignment, reference: Reference, files: dict[str, bytes]) -> None:
    """Classify a graded mutant (see the module docstring)."""
    from grader.checks.compare import difference

    m = outcome.mutant
    facts = {(c.diagnosis, c.mistake) for c in result.checks
             if c.function == m.function and not c.passed and (c.diagnosis or c.mistake)}
    outcome.diagnosed = bool(facts)
    outcome.texts = sorted({t for d, k in facts for t in (d, k) if t})
    calls = _fresh_calls(assignment, m.function)
    differing = []
    with StudentProcess(files, Limits(call_timeout=5.0)) as student:
        for call, (index, tol) in calls:
            try:
                want = reference.call(call)
            except Exception:
                continue
            try:
                got = student.call(call)
            except StudentError as err:
                differing.append((call, index, tol, want, err))
                continue
            if difference(got, want, tol) is not None:
                differing.append((call, index, tol, want, got))
    if not outcome.caught:
        outcome.verdict = "missed" if differing else "equivalent"
        return
    if not outcome.diagnosed:
        return
    # A fact about where the function fails ("fails only on inputs where `loss` is 'mse'") holds
    # when every fresh input where the mutant differs (or fails) is such an input.
    wheres = [ln for d, _ in facts for ln in (d or "").splitlines() if ONLY_WHERE in ln]
    outcome.only_where = bool(wheres) and all(
        ONLY_WHERE in ln for d, _ in facts for ln in (d or "").splitlines()) and not any(k for _, k in facts)
    for line in wheres:
        named = set(line.split(ONLY_WHERE, 1)[1].split("; ", 1)[0].split(AND))
        if any(not named <= set(features(d[0])) for d in differing):
            outcome.verdict = "false"
            return
    # Every fresh input where the mutant differs must show the facts again: one where it returns
    # through the value relations, one where it raises through the exception's (as the grader
    # judges a raising input), with the catalogued mistakes that raise there too.
    checkable = [d for d in differing if not isinstance(d[4], StudentError) or d[4].kind == "exception"]
    if not checkable:
        outcome.verdict = "true" if wheres and differing and outcome.only_where else "unverified"
        return
    catalogued = {mistake.name for mistake in assignment.mistakes}
    for call, index, tol, _want, got in checkable:
        judge = Close(call, tol) if index is None else Part(Close(call, tol), index)
        data = judge.expected(reference)  # the value, the mistakes' outputs and the diagnosis' extras
        if isinstance(got, StudentError):
            found = {f.statement for f in error_findings(got.message, call, got.detail, data)}
            named = set(data.get("raising", []))
        else:
            part_got = _part(got, index)
            findings = value_findings(part_got, data, call)[0]
            if index is not None:
                # A part is named as the grader's `Part` judge names it. The input counts because
                # the whole result differs, perhaps in another part: the facts are looked for in
                # the whole result too (where the part they are about is named by its place).
                findings = [replace(f, subject=part_subject(index, f.scope)) for f in findings]
                findings += value_findings(got, Close(call, tol).expected(reference), call)[0]
            found = {f.statement for f in findings}
            named = {f.mistake for f in catalog_findings(part_got, data["mistakes"], tol)}
            if index is not None:  # a mistake whose whole output is the mutant's (the grader's other checks see it)
                whole = Close(call, tol).expected(reference)["mistakes"]
                named |= {f.mistake for f in catalog_findings(got, whole, tol)}
        for diagnosis, mistake in facts:
            if mistake in catalogued and mistake not in named and diagnosis is None:
                outcome.verdict = "false"
                return
            lines = [ln for ln in (diagnosis or "").splitlines()
                     if ONLY_WHERE not in ln and _evaluable(ln, call) and _concerned(ln, got, _want, tol)]
            if lines and not _restated("\n".join(lines), found) and not (mistake and mistake in named):
                outcome.verdict = "false"
                return
    outcome.verdict = "true"


def _evaluable(fact: str, call: Call) -> bool:
    """A fact that names arguments (`max_epochs`) says nothing of a call without them."""
    import re

    from grader.model import PARAMETER_NAMES

    named = set(re.findall(r"`(\w+)", fact))
    given = set(call.kwargs) | set(PARAMETER_NAMES.get(f"{call.module}.{call.function}", ())[: len(call.args)])
    mentioned = named & set(PARAMETER_NAMES.get(f"{call.module}.{call.function}", ()))
    return mentioned <= given


def _concerned(fact: str, got, want, tol) -> bool:
    """A fact about one returned value (`your second returned value ...`) says nothing of an input
    where that value is right, as the grader states it only over the inputs where it is wrong
    (`grader.checks.findings`)."""
    from grader.checks.compare import difference

    if isinstance(got, StudentError) or not isinstance(want, tuple) or not isinstance(got, tuple) \
            or len(got) != len(want):
        return True
    for i, (g, w) in enumerate(zip(got, want)):
        subject = part_subject(i)
        if (subject in fact or subject.replace("your ", "in your ", 1) in fact) and difference(g, w, tol) is None:
            return False
    return True


UNNAMED = ", one number for every entry"
"""how a factor that no input names on every input is stated (`grader.checks.diagnosis._unnamed`)"""


def _restated(diagnosis: str, found: set[str]) -> bool:
    """The diagnosis's facts are found again on another input: the same kind of relation (the
    numbers in the sentence may differ with the input's sizes)."""
    import re

    def shape(text: str) -> str:
        return re.sub(r"[\d.]+", "#", re.sub(r"\(.*?\)", "", text))

    def restated(part: str) -> bool:
        if UNNAMED in part:  # one number, whatever it is: here a quantity may name it
            head = shape(part.split(UNNAMED)[0]).rsplit(" times ", 1)[0] + " times "
            return any(shape(f).startswith(head) for f in found)
        return any(shape(f) == shape(part) for f in found)

    return all(restated(part) for part in diagnosis.splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--module", action="append", help="only this module (repeatable)")
    ap.add_argument("-n", "--limit", type=int, default=0, help="at most N mutants per module (evenly spread)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--show-false", action="store_true", help="print every false or missed diagnosis")
    ap.add_argument("--show-undiagnosed", action="store_true", help="print every caught mutant without a diagnosis")
    ap.add_argument("--extra", action="store_true",
                    help="other edits instead (a variable mixed up with another, a reduction swapped): "
                         "a second set, to look for false diagnoses")
    args = ap.parse_args()
    started = time.monotonic()
    course = Course.load(ROOT, args.module)
    assignments, reference, expected = course.assignments, course.reference, course.expected
    sources = {p.stem: p.read_bytes() for p in (ROOT / "reference").glob("*.py")}
    work: list[tuple[Mutant, object]] = []
    for a in assignments:
        for module in a.modules:
            found = mutants_of(module, sources[module].decode(), args.extra)
            if args.limit and len(found) > args.limit:
                step = len(found) / args.limit
                found = [found[int(i * step)] for i in range(args.limit)]
            work += [(m, a) for m in found]
    print(f"{len(work)} mutants of {', '.join(a.name for a in assignments)}; grading at -j {args.jobs} ...",
          flush=True)

    def one(item):
        m, a = item
        files = {f"{k}.py": v for k, v in sources.items()}
        files[f"{m.module}.py"] = m.source.encode()
        result = grade_submission(Submission("mutant", ROOT, files), [a], expected, Limits(call_timeout=5.0))
        outcome = Outcome(m, result.score < result.max_score,
                          judge_errors=[c.name for c in result.checks if c.problem == Problem.JUDGE_ERROR])
        verify(outcome, result, a, reference, files)
        return outcome

    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(one, work))
    report(outcomes, args.show_false, args.show_undiagnosed)
    print(f"\n{time.monotonic() - started:.0f} s in all")


def report(outcomes: list[Outcome], show: bool, undiagnosed: bool = False) -> None:
    by_module: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_module.setdefault(o.mutant.module, []).append(o)
    print(f"\n{'module':<16}{'mutants':>8}{'equiv.':>8}{'missed':>8}{'caught':>8}{'diagnosed':>10}"
          f"{'true':>6}{'false':>7}{'unverif.':>9}")
    rows = list(by_module.items()) + [("all", outcomes)]
    for name, mine in rows:
        v = Counter(o.verdict for o in mine)
        caught = sum(o.caught for o in mine)
        diagnosed = sum(o.diagnosed and o.caught for o in mine)
        print(f"{name:<16}{len(mine):>8}{v['equivalent']:>8}{v['missed']:>8}{caught:>8}{diagnosed:>10}"
              f"{v['true']:>6}{v['false']:>7}{v['unverified']:>9}")
    caught = [o for o in outcomes if o.caught]
    non_equivalent = [o for o in outcomes if o.verdict != "equivalent"]
    diagnosed = [o for o in caught if o.diagnosed]
    print(f"\ncaught: {len(caught)} of {len(non_equivalent)} non-equivalent mutants "
          f"({100 * len(caught) / max(1, len(non_equivalent)):.1f}%)")
    print(f"diagnosed: {len(diagnosed)} of {len(caught)} caught ({100 * len(diagnosed) / max(1, len(caught)):.1f}%)")
    where = sum(o.only_where for o in diagnosed)
    print(f"  of which {where} only by the inputs where the function fails "
          f"(what else: {len(diagnosed) - where}, {100 * (len(diagnosed) - where) / max(1, len(caught)):.1f}%)")
    checked = [o for o in diagnosed if o.verdict in ("true", "false")]
    false = [o for o in diagnosed if o.verdict == "false"]
    print(f"true diagnoses: {len(checked) - len(false)} of {len(checked)} checked on fresh inputs "
          f"({len(diagnosed) - len(checked)} unverified: no fresh input made the mutant differ)")
    kinds = Counter(o.mutant.kind for o in caught if not o.diagnosed)
    print("caught without a diagnosis, by kind of edit: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    broken = [o for o in outcomes if o.judge_errors]
    print(f"checks the grader could not judge: {sum(len(o.judge_errors) for o in broken)} "
          f"(on {len(broken)} mutants; each is a bug of the grader)")
    for o in broken:
        m = o.mutant
        print(f"[judge error] {m.module}.{m.function} line {m.line}: {m.before!r} -> {m.after!r}: {o.judge_errors[0]}")
    if undiagnosed:
        for o in caught:
            if not o.diagnosed:
                m = o.mutant
                print(f"[undiagnosed] {m.module}.{m.function} line {m.line}: {m.before!r} -> {m.after!r}")
    if show:
        for o in false + [o for o in outcomes if o.verdict == "missed"]:
            m = o.mutant
            print(f"\n[{o.verdict}] {m.module}.{m.function} line {m.line}: {m.before!r} -> {m.after!r}")
            for t in o.texts:
                print(f"    {t}")


if __name__ == "__main__":
    main()
