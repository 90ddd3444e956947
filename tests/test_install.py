"""What a fresh machine gets: the lock, the extras, environment.yml and one version.

The declared requirements are checked against what the code imports (statically, every
import in every module, including the lazy ones inside functions), and one test builds a
new virtual environment from the lock file alone and runs the command line in it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import workbench

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "funcpipe-workbench"
LOCK = ROOT / "requirements" / "lock.txt"

# Which extra a module's plain imports belong to; everything else is the core. A lazy
# import through workbench._optional.require (or importlib.import_module) names its own.
EXTRA_OF_MODULE = (
    ("workbench/notebook/", "notebook"),
    ("workbench/profile/", "profile"),
    ("workbench/report/", "notebook"),
    ("workbench/rag/minilm", "ml"),
)


@cache
def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _project() -> dict[str, Any]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return project


def _requirements(extra: str | None) -> list[Requirement]:
    """The requirements of the core (None) or of one extra, self-references expanded."""
    project = _project()
    raw = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    out: list[Requirement] = []
    for text in raw:
        req = Requirement(text)
        if canonicalize_name(req.name) == PROJECT:
            for inner in sorted(req.extras):
                out += _requirements(inner)
        else:
            out.append(req)
    return out


def _allowed(extra: str | None) -> set[str]:
    names = {canonicalize_name(r.name) for r in _requirements(None)}
    if extra is not None:
        names |= {canonicalize_name(r.name) for r in _requirements(extra)}
    return names


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, eq, version = line.partition("==")
        assert eq and version, f"{LOCK.name}: not an exact pin: {line!r}"
        pins[canonicalize_name(name.split("[")[0])] = version.strip()
    return pins


# -- the imports of every module --------------------------------------------------------


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Imports(ast.NodeVisitor):
    """(top-level module, extra or None for 'the module's own', line) of every import."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str | None, int]] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            for child in node.orelse:  # the TYPE_CHECKING branch is for the type checker
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(a.name.split(".")[0], None, node.lineno) for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append((node.module.split(".")[0], None, node.lineno))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = _literal(node.args[0]) if node.args else None
        if first is not None and name in ("require", "_require", "import_module"):
            keywords = {k.arg: k.value for k in node.keywords}
            extra = _literal(keywords.get("extra"))
            if name == "_require":  # minilm's own wrapper: always the ml extra
                extra = "ml"
            self.found.append((first.split(".")[0], extra, node.lineno))
        self.generic_visit(node)


def _modules() -> Iterator[Path]:
    yield from sorted((ROOT / "workbench").rglob("*.py"))


def _module_extra(path: Path) -> str | None:
    rel = path.relative_to(ROOT).as_posix()
    return next((extra for prefix, extra in EXTRA_OF_MODULE if rel.startswith(prefix)), None)


def _third_party(top: str) -> bool:
    return top not in sys.stdlib_module_names and top not in ("workbench", "__future__")


def test_every_import_is_declared_by_the_core_or_the_extra_of_its_feature() -> None:
    distributions = metadata.packages_distributions()
    wrong: list[str] = []
    for path in _modules():
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        # a module that asks for a package through require(..., extra=E) may then import it
        lazy = {top: extra for top, extra, _ in visitor.found if extra is not None}
        for top, extra, line in visitor.found:
            if not _third_party(top):
                continue
            feature = extra or lazy.get(top) or _module_extra(path)
            dists = {canonicalize_name(d) for d in distributions.get(top, [])}
            assert dists, f"{path}:{line}: {top!r} is imported but no installed package has it"
            if not dists & _allowed(feature):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {top!r} "
                             f"({', '.join(sorted(dists))}), not declared by "
                             + ("the core" if feature is None else f"the core or [{feature}]"))
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_lazy_import_of_an_undeclared_package(tmp_path: Path) -> None:
    code = ("def f():\n    import scipy\n    return require('polars', feature='x', "
            "extra='analysis')\n")
    visitor = _Imports()
    visitor.visit(ast.parse(code))
    assert visitor.found == [("scipy", None, 2), ("polars", "analysis", 3)]
    assert canonicalize_name("polars") not in _allowed("analysis")  # would be reported
    assert canonicalize_name("scipy") in _allowed(None)  # scipy is a core dependency


def test_every_extra_names_an_existing_extra() -> None:
    extras = set(_project()["optional-dependencies"])
    used = {extra for _, extra in EXTRA_OF_MODULE}
    for path in _modules():
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text()))
        used |= {extra for _, extra, _ in visitor.found if extra is not None}
    assert used <= extras, used - extras


# -- the lock ---------------------------------------------------------------------------


def test_the_lock_pins_every_requirement_of_every_extra_within_its_range() -> None:
    pins = _lock()
    for extra in (None, *_project()["optional-dependencies"]):
        for req in _requirements(extra):
            name = canonicalize_name(req.name)
            assert name in pins, f"{req} ({extra or 'core'}) has no pin in {LOCK.name}"
            assert req.specifier.contains(pins[name], prereleases=True), \
                f"{LOCK.name} pins {name}=={pins[name]}, outside {req} ({extra or 'core'})"


def test_the_dev_tools_are_pinned_exactly_and_match_the_lock() -> None:
    pins = _lock()
    dev = {canonicalize_name(r.name): r for r in _requirements("dev")}
    for tool in ("ruff", "mypy"):
        (spec,) = dev[tool].specifier
        assert spec.operator == "==", f"{dev[tool]} must be pinned exactly"
        assert pins[tool] == spec.version


def test_the_installed_environment_is_the_locked_one() -> None:
    # CI installs from the lock: a package at another version means the lock is not used
    pins = _lock()
    off = {name: (version, metadata.version(name)) for name, version in pins.items()
           if _installed(name) and metadata.version(name) != version}
    assert not off, f"installed versions differ from {LOCK.name}: {off}"


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_torch_is_the_cpu_build_and_its_version_is_written_only_in_the_lock() -> None:
    pins = _lock()
    assert pins["torch"].endswith("+cpu"), "the lock must pin torch's CPU build"
    version = pins["torch"].removesuffix("+cpu")
    for name in ("Makefile", "pyproject.toml", "environment.yml", "README.md", ".ci/run"):
        assert version not in (ROOT / name).read_text(), \
            f"{name} names torch {version}: the lock is the one place for it"


# -- one version, a license, environment.yml ---------------------------------------------


def test_the_version_is_written_once_and_the_license_ships() -> None:
    project = _project()
    assert "version" not in project and "version" in project["dynamic"]
    assert metadata.version(PROJECT) == workbench.__version__
    license_text = (ROOT / "LICENSE").read_text()
    assert project["license"] == "MIT" and license_text.startswith("MIT License")
    build = _pyproject()["build-system"]["requires"]
    (setuptools,) = [Requirement(r) for r in build if r.startswith("setuptools")]
    # PEP 639 license expressions are read from setuptools 77 on
    assert not setuptools.specifier.contains("76.9") and setuptools.specifier.contains("77")


# conda's names for the PyPI packages whose names differ
CONDA_NAMES = {"torch": "pytorch"}


def _environment() -> tuple[dict[str, str], dict[str, str]]:
    """(conda dependencies, pip dependencies) of environment.yml: name -> spec."""
    conda: dict[str, str] = {}
    pip: dict[str, str] = {}
    section = None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith(" "):
            section = line.rstrip(":")
            continue
        item = line.strip()
        if section != "dependencies" or not item.startswith("- "):
            continue
        item = item[2:].strip()
        if item == "pip:":
            continue
        target = pip if raw.startswith("      ") else conda
        if item.startswith("-e") or item == "pip":
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)(.*)", item)
        assert match, item
        target[canonicalize_name(match.group(1))] = match.group(2).strip()
    return conda, pip


def test_environment_yml_declares_what_pyproject_declares_with_the_same_bounds() -> None:
    conda, pip = _environment()
    expected: dict[str, Requirement] = {}
    for extra in (None, "all", "dev"):
        for req in _requirements(extra):
            expected[canonicalize_name(req.name)] = req
    listed = {CONDA_NAMES.get(n, n): n for n in expected}
    missing = sorted(n for conda_name, n in listed.items()
                     if conda_name not in conda and n not in pip)
    assert not missing, f"environment.yml lacks {missing}"
    extra_names = sorted(set(conda) - set(listed) - {"python"} | set(pip) - set(expected))
    assert not extra_names, f"environment.yml has {extra_names}, which pyproject.toml lacks"
    for name, req in expected.items():
        spec = pip.get(name) if name in pip else conda[CONDA_NAMES.get(name, name)]
        assert spec is not None
        version_part = spec.split("=cpu")[0] if name == "torch" else spec
        assert version_part.replace(" ", "") == str(req.specifier).replace(" ", "") or \
            sorted(version_part.replace(" ", "").split(",")) == \
            sorted(str(req.specifier).split(",")), \
            f"environment.yml: {name}{spec} but pyproject.toml: {req}"
    assert conda["python"].startswith("=3.11")
    assert conda["pytorch"].endswith("=cpu*"), "conda's pytorch must be the CPU build"


# -- a fresh environment from the lock alone ----------------------------------------------


def _copy_source(dest: Path) -> Path:
    """The files a build of the project reads, copied (a build in the checkout would
    write build/ and egg-info there)."""
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "workbench", dest / "workbench",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    return dest


@pytest.mark.slow
@pytest.mark.install
def test_a_fresh_venv_built_from_the_lock_runs_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    src = _copy_source(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # as the Makefile does: the lock's setuptools replaces the one the venv was seeded with
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(LOCK), "setuptools",
         f"{src}[native]"], capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, install.stdout + install.stderr
    versions = json.loads(subprocess.run(
        [str(python), "-c", "import json, importlib.metadata as m; print(json.dumps("
         "{d.metadata['Name'].lower(): d.version for d in m.distributions()}))"],
        capture_output=True, text=True, check=True).stdout)
    pins = _lock()
    for name, version in versions.items():
        if canonicalize_name(name) in pins:
            assert pins[canonicalize_name(name)] == version, name
    assert "torch" not in versions  # the light install brings no model stack
    work = tmp_path / "elsewhere"  # no pyproject.toml: the built-in defaults
    work.mkdir()
    version = subprocess.run([str(venv / "bin" / "workbench"), "--version"], cwd=work,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == \
        f"workbench {workbench.__version__}", version.stdout + version.stderr
    out = work / "compare.json"
    compare = subprocess.run(
        [str(python), "-m", "workbench", "compare", "chunk", "--pipeline",
         "workbench.rag.reference:reference_pipeline", "--workload", "tiny", "--workers", "2",
         "--samples", "5", "--no-progress", "--json", str(out)],
        cwd=work, capture_output=True, text=True, timeout=600)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    variants = json.loads(out.read_text())["summary"]["variants"]
    assert set(variants) == {"pure", "cached", "vectorized", "native"}
    assert "vectorized" in compare.stdout and "native" in compare.stdout


# -- tools from outside Python ------------------------------------------------------------


@pytest.mark.parametrize(("required", "outcome"), [("", "1 skipped"), ("1", "1 failed")])
def test_a_missing_tool_skips_with_its_reason_unless_tools_are_required(
        tmp_path: Path, required: str, outcome: str) -> None:
    (tmp_path / "test_tool.py").write_text(
        "from needs import require_tool\n\n"
        "def test_it():\n"
        "    require_tool(False, 'Frobnicator (/usr/bin/frob)', 'apt-get install frob')\n")
    env = {**os.environ, "WORKBENCH_REQUIRE_TOOLS": required,
           "PYTHONPATH": str(ROOT / "tests")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                          str(tmp_path / "test_tool.py")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert outcome in run.stdout, run.stdout + run.stderr
    assert "Frobnicator (/usr/bin/frob) is missing" in run.stdout
    assert "apt-get install frob" in run.stdout
