"""A student's copy installs the grader from itself and checks their work, in a fresh environment.

The virtual environments are made with `--system-site-packages`, so the grader's dependencies
(numpy, scipy, click, nbformat, ...) come from this machine instead of the package index and
the test runs offline and quickly; the grader itself must come from the template's own wheel
(the test checks where `grader` is imported from). The notebook test also needs the `notebook`
extra's kernel (ipykernel) from the package index, and is skipped when it cannot be installed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest
from test_classroom import decode_runners, read_env_file, step_script

from conftest import ROOT

TEMPLATE = ROOT / "student_template"
WORKFLOW = TEMPLATE / ".github" / "workflows" / "classroom.yml"


def readme_install_line() -> str:
    lines = [line.split("#", 1)[0].strip() for line in (TEMPLATE / "README.md").read_text().splitlines()
             if line.startswith("python -m pip install")]
    assert len(lines) == 1, lines
    return lines[0]


def fresh_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A new virtual environment (system site packages visible) and an environment without PYTHONPATH."""
    folder = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", VIRTUAL_ENV=str(folder),
               PATH=f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    return folder / "bin" / "python", env


def with_python(script: str, python: Path) -> str:
    return re.sub(r"(?m)^python ", f'"{python}" ', script)


def test_the_readme_installs_the_same_thing_as_the_workflow_plus_the_notebook_kernel():
    workflow = step_script("Install the grader")
    assert readme_install_line() == workflow.replace('.whl"', '.whl[notebook]"')
    assert workflow != readme_install_line()


def test_the_bundled_wheel_holds_only_the_engine_and_is_rebuilt_byte_for_byte(tmp_path):
    from grader.course.wheel import build_wheel

    (wheel,) = (TEMPLATE / ".github" / "grader").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert names == sorted(names)
    assert {n.split("/", 1)[0] for n in names} == {"grader", wheel.name.rsplit("-", 3)[0] + ".dist-info"}
    assert "grader/cli/commands.py" in names and not any("reference" in n or "checks_hidden" in n for n in names)
    again = build_wheel(ROOT / "grader", tmp_path)
    assert again.read_bytes() == build_wheel(ROOT / "grader", tmp_path / "second").read_bytes()
    assert {i.date_time for i in zipfile.ZipFile(again).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_fresh_environment_runs_the_workflows_install_and_check_steps_to_payloads_that_decode(tmp_path):
    python, env = fresh_env(tmp_path)
    work = tmp_path / "repo"
    shutil.copytree(TEMPLATE, work)
    shutil.copy(ROOT / "reference" / "perceptron.py", work / "perceptron.py")
    install = subprocess.run(["bash", "-euo", "pipefail", "-c", with_python(step_script("Install the grader"), python)],
                             cwd=work, env={**env, "PIP_NO_INDEX": "1"}, capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where  # the wheel's grader, not this checkout's
    env_file, summary = tmp_path / "github_env", tmp_path / "summary.md"
    check = subprocess.run(["bash", "-euo", "pipefail", "-c", with_python(step_script("Visible checks"), python)],
                           cwd=work, env={**env, "GITHUB_ENV": str(env_file), "GITHUB_STEP_SUMMARY": str(summary)},
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    tests = [t for r in decode_runners(read_env_file(env_file)) for t in r["tests"]]
    perceptron = [t for t in tests if t["name"].startswith("perceptron.")]
    assert perceptron and all(t["status"] == "pass" for t in perceptron)
    assert any(t["status"] == "fail" for t in tests)


def test_a_handout_notebook_runs_in_the_kernel_the_readme_installs(tmp_path):
    python, env = fresh_env(tmp_path)
    work = tmp_path / "repo"
    shutil.copytree(TEMPLATE, work)
    install = subprocess.run(["bash", "-euo", "pipefail", "-c", with_python(readme_install_line(), python)], cwd=work,
                             env=env, capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"the notebook extra (ipykernel) cannot be installed here: {install.stderr.strip()[-300:]}")
    run = """
import json, sys, nbformat, nbclient
nb = nbformat.read("forward.ipynb", as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
print(json.dumps([["".join(o.get("text", "") for o in c.get("outputs", [])), c.source] for c in nb.cells
                  if c.cell_type == "code"]))
"""
    done = subprocess.run([str(python), "-c", run], cwd=work, env={**env, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    cells = json.loads(done.stdout.strip().splitlines()[-1])
    check_output = next(out for out, source in cells if source.startswith("%run -e -m grader.__main__ check forward"))
    assert re.search(r"\d+/\d+ visible checks passed", check_output), check_output
    assert "NotImplementedError" in check_output
    assert cells[-1][0].strip() == f"KERNEL {python}"


def test_the_payload_is_base64_of_json_as_the_reporter_decodes_it():
    # The reporter: Buffer.from(process.env[`${RUNNER}_RESULTS`], "base64").toString("utf-8"), then JSON.parse.
    from grader.reports.classroom import encode_payload

    payload = {"version": 1, "status": "fail", "max_score": 2, "tests": [{"name": "ü ✅", "status": "fail",
                                                                          "score": 0, "message": "", "line_no": 0}]}
    assert json.loads(base64.b64decode(encode_payload(payload)).decode("utf-8")) == payload


def test_a_course_may_pin_its_own_source_but_never_name_a_package_on_the_index():
    from grader.course.loading import CourseError
    from grader.course.template import install_command

    wheel = "nn_grader-0.1.0-py3-none-any.whl"
    assert install_command({}, wheel) == f'python -m pip install "./.github/grader/{wheel}"'
    commit = "0123456789abcdef0123456789abcdef01234567"
    pinned = {"grader_package": f"nn-grader @ git+https://example.org/c/nn-grader.git@{commit}"}
    assert install_command(pinned, wheel, "notebook") == (
        f'python -m pip install "nn-grader[notebook] @ git+https://example.org/c/nn-grader.git@{commit}"')
    for loose in ("nn-grader", "nn-grader==0.1.0", "git+https://example.org/c/nn-grader.git@main",
                  "https://example.org/nn_grader-0.1.0-py3-none-any.whl"):
        with pytest.raises(CourseError, match="not an exact source"):
            install_command({"grader_package": loose}, wheel)
