"""Solution markers: every form nbgrader and Otter accept gives a stub without the solution; others are refused."""

from __future__ import annotations

import ast

import pytest

from grader.course.solutions import MarkerError, make_stub, solution_lines, strip_solutions

SECRET = "secret_value = weights @ inputs.T + 42"
RAISE = ('    # TODO: implement (remove the raise below)\n'
         '    raise NotImplementedError("Implement f (see the handout)")\n')


def stub_of(body: str) -> str:
    return make_stub(f'def f(weights, inputs):\n    """Doc."""\n{body}', "reference/m.py")


# Each form with the stub it must give, written out by hand from the tools' documentation.
FORMS = {
    "nbgrader": (f"    ### BEGIN SOLUTION\n    {SECRET}\n    return secret_value\n    ### END SOLUTION\n",
                 RAISE),
    "nbgrader with text after the delimiter": (
        f"    ### BEGIN SOLUTION (part a)\n    {SECRET}\n    return secret_value\n    ### END SOLUTION (part a)\n",
        RAISE),
    "otter block": (f"    # BEGIN SOLUTION\n    {SECRET}\n    return secret_value\n    # END SOLUTION\n",
                    RAISE),
    "otter NO PROMPT with a prompt": (
        f'    # BEGIN SOLUTION NO PROMPT\n    {SECRET}\n    return secret_value\n    # END SOLUTION\n'
        '    """ # BEGIN PROMPT\n    raise NotImplementedError("write f")\n    """; # END PROMPT\n',
        '    raise NotImplementedError("write f")\n'),
    "otter one-line assignment": (f"    {SECRET}  # SOLUTION\n    return secret_value\n",
                                  "    secret_value = ...\n    return secret_value\n"),
    "otter one-line statement": ("    x = 1\n    return weights @ inputs.T + 42 # SOLUTION\n", "    x = 1\n    ...\n"),
    "otter SOLUTION NO PROMPT line": (f"    {SECRET} # SOLUTION NO PROMPT\n    return 0\n", "    return 0\n"),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_accepted_form_gives_the_stub_the_tools_would(form):
    body, expected_body = FORMS[form]
    stub = stub_of(body)
    assert stub == f'def f(weights, inputs):\n    """Doc."""\n{expected_body}'
    assert "weights @ inputs.T + 42" not in stub
    ast.parse(stub)


@pytest.mark.parametrize("form", FORMS)
def test_every_form_names_its_solution_lines_for_the_leak_detector(form):
    body, _ = FORMS[form]
    lines = [text.strip() for _, text in solution_lines(f"def f(weights, inputs):\n{body}", "m.py")]
    assert any("weights @ inputs.T + 42" in line for line in lines), lines


def test_a_module_level_block_is_removed_and_line_numbers_name_the_reference():
    source = "import numpy as np\n### BEGIN SOLUTION\nHELPER = np.ones(3) * 7\n### END SOLUTION\nX = 1\n"
    stubbed = strip_solutions(source, "reference/m.py")
    assert stubbed.stub == "import numpy as np\nX = 1\n"
    assert stubbed.solution == [(3, "HELPER = np.ones(3) * 7")]


REFUSED = {
    "lower case": ("    # begin solution\n    return 1\n    # end solution\n", "line 3"),
    "no END": ("    ### BEGIN SOLUTION\n    return 1\n", "line 3: BEGIN SOLUTION has no END"),
    "END without BEGIN": ("    return 1\n    ### END SOLUTION\n", "line 4: END SOLUTION without"),
    "nested": ("    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n",
               "line 4: BEGIN SOLUTION inside"),
    "after code": ("    x = 1  ### BEGIN SOLUTION\n    ### END SOLUTION\n", "line 3"),
    "nbgrader hidden tests": ("    ### BEGIN HIDDEN TESTS\n    assert f(1) == 1\n    ### END HIDDEN TESTS\n",
                              "line 3"),
    "otter ignore": ("    x = 1  # IGNORE\n    return x\n", "line 3"),
    "unbalanced prompt": ('    """ # BEGIN PROMPT\n    pass\n', "line 3: BEGIN PROMPT has no END PROMPT"),
    "SOLUTION on a comment line": ("    # SOLUTION\n    return 1\n", "line 3"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_an_unknown_or_unbalanced_marker_is_refused_with_the_file_and_line(case):
    body, where = REFUSED[case]
    with pytest.raises(MarkerError) as raised:
        make_stub(f"def f(x):\n    'Doc.'\n{body}", "reference/m.py")
    assert "reference/m.py" in str(raised.value) and where in str(raised.value), str(raised.value)


def test_ordinary_comments_that_mention_solutions_or_seeds_are_left_alone():
    source = "def f(rng):\n    # seed the generator once; the solution below is vectorized\n    ### BEGIN SOLUTION\n" \
             "    return rng.random(3)\n    ### END SOLUTION\n"
    assert "# seed the generator once" in make_stub(source)


def test_a_no_prompt_block_that_leaves_an_empty_body_is_refused():
    source = "def f(x):\n    # BEGIN SOLUTION NO PROMPT\n    return 1\n    # END SOLUTION\n"
    with pytest.raises(MarkerError, match="reference/m.py: the stub made from it does not parse"):
        make_stub(source, "reference/m.py")
