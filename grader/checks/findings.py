"""What the feedback says once per function, from what each failing check found.

A check that fails records `Finding`s (facts about its one input, made by
`grader.checks.diagnosis`) in its `Evidence`. `diagnose` combines the evidence of all the
checks of one function: it states an explanation only when it holds on every failing input of
that function, and only when a non-degenerate input (no axis of length 1, no list of one or two
entries) proves it or two inputs do. Two catalogued mistakes that both fit are not named.
It also states where the function fails, from the inputs it fails and passes on together
(`_only_where`): "`backward` fails only on inputs where `loss` is 'mse'".
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.checks.cases import features, is_degenerate
from grader.checks.variants import CHANGES
from grader.model import Call

WHAT = "{what}"
"""the placeholder for the result's name in a finding's text"""


@dataclass(frozen=True)
class Finding:
    """One fact about one failing input."""

    key: str
    """the explanation's identity: the same mistake on another input has the same key"""
    text: str
    """the fact, stated for a student (`"it is exactly the expected one divided by 5 ..."`)"""
    scope: str = ""
    """where in the result it holds (`"[1]"`, `"['W2']"`), empty for the whole result"""
    proven: bool = True
    """False when the input only fails to contradict it (a catalogued mistake that raises where
    the student's code raised): such a finding never stands alone"""
    strong: bool = True
    """False when it rests on a single number (a scalar result): it needs another input"""
    mistake: str | None = None
    """the catalogued mistake's name, for catalog findings"""
    subject: str = "your result"
    """what `{what}` in `text` stands for (a judge of one part of a result names that part)"""

    @property
    def statement(self) -> str:
        """The fact as the feedback states it."""
        return self.text.replace(WHAT, self.subject)


@dataclass(frozen=True)
class Evidence:
    """What one check saw: the findings on its input, or what a passing input refutes."""

    function: str
    """`module.function`"""
    passed: bool
    findings: tuple[Finding, ...] = ()
    scopes: tuple[str, ...] = ("",)
    """the parts of the result that differ (`""`: the whole, or unknown)"""
    degenerate: bool = False
    """the input cannot tell similar mistakes apart (an axis of length 1, a one-layer list)"""
    neutral: bool = False
    """no information: the call timed out, crashed, was skipped, or the module is missing"""
    raised: bool = False
    """the student's code raised: its findings hold for every part of the result"""
    failed_on: tuple[Call, ...] = ()
    """the calls whose outputs failed (a failure known to come from one call: that call; else
    every call the check judged); empty when the check passed, or did not run the student's code
    (skipped, the module missing)"""
    right_on: tuple[Call, ...] = ()
    """the calls whose outputs (or the part `compared`) were compared with expected values and
    right: every call of a passing value check, the passing cases of a failing table"""
    compared: str | None = None
    """what of each output the check compared (`grader.checks.judges.compared`): `""` the whole,
    `"[1]"` the second returned value; None for a property of the output or of the arguments"""


@dataclass(frozen=True)
class Diagnosis:
    """What the feedback says once for one function."""

    function: str
    texts: tuple[str, ...]
    """the facts, most specific first"""
    mistake: str | None = None
    """the catalogued mistake's name when one is confirmed"""
    hint: str | None = None
    """that mistake's hint"""


_NARROWER = {"==0": ("<=0", ">=0"), "<0": ("<=0", "!=0"), ">0": (">=0", "!=0")}
"""a relation and the wider ones it implies: when both are stated, the narrower says more"""


# ---------------------------------------------------------------- per function


def _matches(f: Finding, e: Evidence, key: str, scope: str) -> bool:
    """`f` of evidence `e` is the explanation `(key, scope)` (an exception concerns every part)."""
    return f.key == key and (f.scope == scope or e.raised)


def _stated(key: str, scope: str, failing: list[Evidence]) -> bool:
    """The rule of `diagnose` for one explanation."""
    concerned = [e for e in failing if _concerns(e, scope)]
    if not all(any(_matches(f, e, key, scope) for f in e.findings) for e in concerned):
        return False
    proofs = [(e, any(f.strong for f in e.findings if _matches(f, e, key, scope) and f.proven))
              for e in concerned if any(_matches(f, e, key, scope) and f.proven for f in e.findings)]
    return any(strong and not e.degenerate for e, strong in proofs) or len(proofs) >= 2


def diagnose(evidence: list[Evidence]) -> dict[str, Diagnosis]:
    """The explanation to state once per function, by `module.function`.

    An explanation (a finding's key and scope) is stated when (1) it holds on every failing
    input of the function whose failure touches its scope (inputs that timed out or crashed say
    nothing), and (2) it is proven by a strong finding (one that rests on several numbers) on a
    non-degenerate input, or by findings on two inputs.
    Two catalogued mistakes that both fit are not named: either could be wrong.
    """
    by_function: dict[str, list[Evidence]] = {}
    for e in evidence:
        by_function.setdefault(e.function, []).append(e)
    out: dict[str, Diagnosis] = {}
    for function, items in by_function.items():
        failing = [e for e in items if not e.passed and not e.neutral]
        candidates: dict[tuple[str, str], Finding] = {}
        for e in failing:
            for f in e.findings:
                if f.proven:
                    candidates.setdefault((f.key, f.scope), f)
        stated = [f for (key, scope), f in candidates.items() if _stated(key, scope, failing)]
        catalog = list({f.mistake: f for f in stated if f.mistake}.values())
        if len(catalog) > 1:
            catalog = []  # two catalogued mistakes fit: naming either could be wrong
        generic = [f.statement for f in _one_per_scope_and_kind([f for f in stated if not f.mistake])]
        where = _only_where(function, items)
        if where:
            generic = generic[: MOST_FACTS - 1] + [where]
        if not catalog and not generic:
            continue
        out[function] = Diagnosis(function, tuple(generic),
                                  catalog[0].mistake if catalog else None,
                                  catalog[0].statement if catalog else None)
    return out


MOST_FACTS = 3
"""the facts stated at most for one function"""

ONLY_WHERE = " fails only on inputs where "
"""how a fact about the inputs a function fails on reads (`_only_where`); its features are
joined by `AND`"""
AND = " and "


def _only_where(function: str, items: list[Evidence]) -> str | None:
    """Where the function fails, as the features (`grader.checks.cases.features`) that every
    failing input shares and that matter: a feature is named when an input whose whole output was
    right (or, where every failure is of one part of the result, that part) has every other
    shared feature but not that one; a non-degenerate such input proves it, or two inputs do.
    None when no feature is proven to matter.

    A failing input counts whatever its kind of failure (a timeout too); a check that did not run
    the student's code says nothing. The cases of a table count one by one."""
    failed_on = [c for e in items for c in e.failed_on]
    if not failed_on:
        return None
    order = features(failed_on[0])
    shared = set(order).intersection(*(features(c) for c in failed_on))
    if not shared:
        return None
    # A part found right proves something only of failures of that part.
    parts = {e.compared for e in items if e.failed_on}
    witnesses = [(set(features(c)), is_degenerate(c)) for e in items
                 if e.compared == "" or e.compared is not None and parts == {e.compared} for c in e.right_on]
    needed = []
    for fact in (f for f in order if f in shared):
        rest = shared - {fact}
        proofs = [degenerate for have, degenerate in witnesses if fact not in have and rest <= have]
        if len(proofs) >= 2 or not all(proofs):
            needed.append(fact)
    if not needed:
        return None
    name = function.rsplit(".", 1)[-1]
    otherwise = "one of these is" if len(needed) > 1 else "that is"
    return f"`{name}`{ONLY_WHERE}{AND.join(needed)}; where {otherwise} not so, it passes"


ARGS = "args"
"""the scope of facts about the arguments as the call left them (not about the result)"""


def _concerns(e: Evidence, scope: str) -> bool:
    """Whether the failure `e` must show a finding of `scope` for it to be stated."""
    if scope == ARGS:
        return ARGS in e.scopes
    if scope == "":
        return any(s != ARGS for s in e.scopes)
    return scope in e.scopes or "" in e.scopes


def _kind(f: Finding) -> str:
    for kind in ("factor", "wrongfactor", "step:", "offset", "where:"):
        if f.key.startswith(kind):
            return kind.rstrip(":")
    if f.key.startswith("neighbor:") and f.key.rsplit(":", 1)[1] in CHANGES:
        return f.key  # each argument's sign (say) is its own fact: `-Y_hat` and `-Y` can both hold
    return f.key.split(":")[0]


IMPLIED = {"stops-early": "one-short", "goes-on": "one-long"}
"""a kind of fact, and the more precise one that implies it: where both are stated for one
scope, only the precise one is (a sequence one step short also stops too early)"""

NAMINGS = ("factor", "wrongfactor", "step", "offset")
"""kinds whose findings of one scope name one number several ways: the first naming is kept"""


def _narrowest(wheres: list[Finding]) -> list[Finding]:
    """The "wrong only where ..." facts not implied by a narrower one stated with them (`z > 0`
    says more than `z >= 0`)."""
    keys = {f.key for f in wheres}
    return [f for f in wheres if not any(
        f.key == k[: -len(narrow)] + wide and k != f.key
        for k in keys for narrow, wides in _NARROWER.items() if k.endswith(narrow) for wide in wides)]


UNNAMED_FACTOR = "factorx?"
"""the key of a factor only measured, named by no input (`grader.checks.diagnosis._unnamed`)"""


def _said_for_all(scope: str, f: Finding, groups: dict[tuple[str, str], list[Finding]]) -> bool:
    """A factor of one returned value that the same factor of every returned value states (or,
    for the whole, a measured factor where a part's is named: `times y_hat` says more than
    `times 0.5, one number`)."""
    whole = groups.get(("", "factor"))
    if scope:
        return bool(whole) and whole[0].key == f.key
    return f.key == UNNAMED_FACTOR and any(s and k == "factor" and g[0].key != UNNAMED_FACTOR
                                           for (s, k), g in groups.items())


def _one_per_scope_and_kind(findings: list[Finding]) -> list[Finding]:
    """At most three facts, one per scope and kind. Several namings of one factor are the same
    number, so the first (by argument order) is kept; of the "wrong only where" facts, the
    narrowest; two facts of another kind that both fit (an off-by-one up and down, on an input
    where both give the same) say nothing: dropped."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.scope, _kind(f)), []).append(f)
    kept: list[Finding] = []
    for (scope, kind), fs in groups.items():
        if IMPLIED.get(kind) and len(groups.get((scope, IMPLIED[kind]), [])) == 1:
            continue  # the precise fact is stated
        if kind == "factor" and _said_for_all(scope, fs[0], groups):
            continue
        if kind in NAMINGS:
            kept.append(fs[0])
        elif kind == "where":
            kept += _narrowest(fs)
        elif len(fs) == 1:
            kept.append(fs[0])
    return kept[:MOST_FACTS]
