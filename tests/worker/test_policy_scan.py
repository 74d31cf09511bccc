"""The static import scan (`policy.scan`): every way of writing an import is seen, with its line."""

from __future__ import annotations

import pytest

from grader.worker import policy

ALLOWED = ["numpy", "scipy", "math"]


def _found(files: dict[str, str], module: str = "forward", allowed=ALLOWED) -> list[tuple[str, int, str]]:
    data = {name: text.encode() for name, text in files.items()}
    return [(v.file, v.line, v.module) for v in policy.scan(data, module, allowed)]


@pytest.mark.parametrize("line", [
    "import torch",
    "import torch.nn as nn",
    "from torch import nn",
    "from torch.nn import functional",
    "import numpy, torch",
    "x = __import__('torch')",
])
def test_each_form_of_import_is_found_on_its_line(line):
    assert _found({"forward.py": f"import numpy as np\n\n{line}\n"}) == [("forward.py", 3, "torch")]


def test_an_import_inside_a_function_or_a_branch_is_found():
    source = "def f():\n    if False:\n        import socket\n    return 1\n"
    assert _found({"forward.py": source}) == [("forward.py", 3, "socket")]


def test_allowed_modules_and_the_plain_helpers_pass():
    source = "import numpy as np\nimport scipy.special\nfrom math import exp\nimport functools, itertools\n"
    assert _found({"forward.py": source}) == []


def test_the_allowlist_is_the_assignments_own():
    source = "import numpy as np\nimport scipy\n"
    assert _found({"forward.py": source}, allowed=["numpy"]) == [("forward.py", 2, "scipy")]
    assert _found({"forward.py": source}, allowed=[]) == [("forward.py", 1, "numpy"), ("forward.py", 2, "scipy")]


def test_a_relative_import_and_a_computed_name_are_not_guessed_at():
    # The runtime guard sees these when they run; the scan reads only what is written.
    source = "from . import helpers\nname = 'torch'\nm = __import__(name)\n"
    assert _found({"forward.py": source}) == []


def test_the_students_own_modules_are_followed_once_and_only_when_imported():
    files = {
        "forward.py": "import helpers\n",
        "helpers.py": "import forward\nimport subprocess\n",
        "unused.py": "import socket\n",
    }
    assert _found(files) == [("helpers.py", 2, "subprocess")]


def test_the_graded_module_comes_first_then_the_others_by_name_and_line():
    # Found in another order: helpers after forward.py's top level, b_helpers before a_helpers,
    # and the import inside a function (line 4) after the top-level one (line 6).
    files = {
        "forward.py": "import a_helpers\nimport b_helpers\n\ndef f():\n    import jax\nimport torch\n",
        "a_helpers.py": "import socket\n",
        "b_helpers.py": "import ctypes\n",
    }
    assert _found(files) == [("forward.py", 5, "jax"), ("forward.py", 6, "torch"),
                             ("a_helpers.py", 1, "socket"), ("b_helpers.py", 1, "ctypes")]


def test_a_file_that_does_not_parse_or_is_absent_is_skipped():
    assert _found({"forward.py": "def broken(:\n"}) == []
    assert _found({"backprop.py": "import torch\n"}) == []
    assert _found({"forward.py": "\0import torch"}) == []


def test_the_message_names_the_file_the_line_and_the_reason():
    (violation,) = policy.scan({"forward.py": b"\n\nimport torch\n"}, "forward", ALLOWED)
    message = violation.message(ALLOWED)
    assert message.startswith("forward.py, line 3: importing torch is not allowed: it computes gradients")
    assert "Allowed here: numpy, scipy" in message


def test_imports_in_every_kind_of_statement_block_are_found():
    # The scan walks statements only (an expression holds none): every block that holds them.
    source = (
        "try:\n    import socket\nexcept OSError:\n    import torch\nelse:\n    import jax\n"
        "finally:\n    import ctypes\n"
        "match 1:\n    case 1:\n        import keras\n"
        "class K:\n    def f(self):\n        with open('x') as f:\n            for _ in f:\n"
        "                while True:\n                    import sklearn\n"
        "x = [lambda: 1 for _ in range(2)]\n"
    )
    assert _found({"forward.py": source}) == [
        ("forward.py", 2, "socket"), ("forward.py", 4, "torch"), ("forward.py", 6, "jax"),
        ("forward.py", 8, "ctypes"), ("forward.py", 11, "keras"), ("forward.py", 17, "sklearn"),
    ]


@pytest.mark.parametrize("call", [
    "x = [__import__('torch') for _ in range(1)]",
    "f = lambda: __import__('torch')",
    "y = {'k': __import__('torch')}",
    "z = __ｉｍｐｏｒｔ__('torch')",  # fullwidth letters: the same name once NFKC-normalized
])
def test_an_import_call_inside_any_expression_is_found(call):
    assert _found({"forward.py": f"import numpy as np\n{call}\n"}) == [("forward.py", 2, "torch")]


def test_each_source_is_parsed_once_however_many_modules_import_it(monkeypatch: pytest.MonkeyPatch):
    """Three graded modules import one helper (and the listing reads it too): the helper's source
    is parsed once; a changed source is parsed again; an oversized one is never kept."""
    parsed: list[bytes] = []
    real = policy.parse

    def counting(source, filename="<unknown>"):
        parsed.append(bytes(source))
        return real(source, filename)

    monkeypatch.setattr(policy, "parse", counting)
    policy._imports_cached.cache_clear()
    helper = "import numpy as np\nimport socket\n# " + "x" * 40 + "\n"
    files = {f"{m}.py": "import helper_for_all\n" for m in ("a", "b", "c")} | {"helper_for_all.py": helper}
    for module in ("a", "b", "c"):
        assert _found(files, module) == [("helper_for_all.py", 2, "socket")]
    assert parsed.count(helper.encode()) == 1
    changed = files | {"helper_for_all.py": helper + "import ctypes\n"}
    assert _found(changed, "a") == [("helper_for_all.py", 2, "socket"), ("helper_for_all.py", 4, "ctypes")]
    assert parsed.count((helper + "import ctypes\n").encode()) == 1
    big = "import socket\n" + "#" * policy.CACHED_SOURCE_BYTES + "\n"
    for _ in range(2):
        assert _found({"forward.py": big}) == [("forward.py", 1, "socket")]
    assert parsed.count(big.encode()) == 2
