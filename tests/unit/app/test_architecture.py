"""The import contracts in pyproject.toml hold, so `pytest` alone fails on a broken layer, a
domain package importing Flask or `caseshare.access`, or an import cycle between packages; and
every top-level module of caseshare sits in a layer, so a new one cannot slip past them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import caseshare

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(caseshare.__file__).parent


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_top_level_module_is_in_a_layer() -> None:
    [layers] = [c for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers["layers"], list)
    placed = {name.strip().strip("()").removeprefix("caseshare.")
              for layer in layers["layers"] for name in str(layer).split(":")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert modules - placed == set()


def test_domain_packages_are_the_forbidden_contracts_sources() -> None:
    [layers] = [c for c in _contracts() if c["type"] == "layers"]
    [forbidden] = [c for c in _contracts() if c["type"] == "forbidden"]
    assert isinstance(layers["layers"], list)
    domain = {name.strip() for name in str(layers["layers"][2]).split(":")}
    assert isinstance(forbidden["source_modules"], list)
    assert set(forbidden["source_modules"]) == domain
    assert "caseshare.access" in forbidden["forbidden_modules"]  # type: ignore[operator]
