"""caseshare/ uses only the public names of its dependencies.

A name with one leading underscore is a library's internal detail: it changes in a patch release
without notice, and code built on it (issue 19: SQLAlchemy's `_result_columns`, flask-limiter's
`_check_request_limit`, flask-smorest's `_register_responses`) breaks or silently stops doing
its job on an upgrade. ruff's banned-api rule (pyproject.toml) keeps the modules that were used
that way out; this test reads every module under caseshare/ and fails on

- `from X import _name` and `import X._module` for any third-party X,
- `something._name` where caseshare itself defines no `_name` (so it can only be a dependency's
  or the standard library's private attribute, a module's included),
- a method `_name` in a subclass of a third-party class that overrides that class's private
  method, unless the library documents it as the hook to override (`DOCUMENTED_HOOKS`).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "caseshare"

# Private-looking names the library documents as the way to extend it.
DOCUMENTED_HOOKS = {
    # marshmallow, "Creating a field class": implement `_serialize` and `_deserialize`.
    ("marshmallow", "_serialize"),
    ("marshmallow", "_deserialize"),
    ("marshmallow", "_validated"),
}
# Standard-library names that are public despite the underscore (documented so).
PUBLIC_UNDERSCORE = {
    "_replace", "_asdict", "_fields", "_make", "_field_defaults",  # collections.namedtuple
    "_exit",  # os._exit
    "_missing_", "_generate_next_value_", "_value_", "_name_", "_ignore_",  # enum
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _third_party(module: str) -> bool:
    top = module.split(".")[0]
    return bool(top) and top != "caseshare" and top not in sys.stdlib_module_names


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(), str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def private_imports(path: Path, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _third_party(alias.name) and any(map(_private, alias.name.split("."))):
                    found.append(f"{_where(path, node)} import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _third_party(node.module):
                continue
            if any(map(_private, node.module.split("."))):
                found.append(f"{_where(path, node)} from {node.module} import ...")
            found += [f"{_where(path, node)} from {node.module} import {alias.name}"
                      for alias in node.names if _private(alias.name)]
    return found


def _resolve(expr: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(expr, ast.Name):
        return namespace.get(expr.id)
    if isinstance(expr, ast.Attribute):
        owner = _resolve(expr.value, namespace)
        return getattr(owner, expr.attr, None) if owner is not None else None
    if isinstance(expr, ast.Subscript):  # Generic[T] and the like
        return _resolve(expr.value, namespace)
    return None


def _overridden_owner(cls: type, name: str) -> str | None:
    """The third-party module whose class in `cls`'s bases defines `name`, if one does."""
    for base in inspect.getmro(cls)[1:]:
        if _third_party(base.__module__) and name in vars(base):
            return base.__module__
    return None


def private_overrides(module: str, path: Path, tree: ast.Module) -> tuple[list[str], set[str]]:
    """Methods overriding a dependency's private name (the offending ones, and every such
    name, which do not count as caseshare's own)."""
    namespace = vars(importlib.import_module(module))
    offending, names = [], set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [b for b in map(lambda e: _resolve(e, namespace), node.bases)
                 if isinstance(b, type)]
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) or not _private(
                    item.name):
                continue
            owners = {owner for base in bases
                      if (owner := _overridden_owner(type("_Probe", (base,), {}), item.name))}
            if not owners:
                continue
            names.add(item.name)
            if not any((owner.split(".")[0], item.name) in DOCUMENTED_HOOKS for owner in owners):
                offending.append(f"{_where(path, item)} overrides {sorted(owners)[0]}'s "
                                 f"private {item.name}")
    return offending, names


def defined_names(tree: ast.Module) -> set[str]:
    """Every private name caseshare binds: functions, classes, variables, attributes it
    assigns, parameters, import aliases."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return {name for name in names if _private(name)}


def private_attributes(path: Path, tree: ast.Module, own: set[str]) -> list[str]:
    return [f"{_where(path, node)} .{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and _private(node.attr)
            and node.attr not in own and node.attr not in PUBLIC_UNDERSCORE]


def problems() -> list[str]:
    modules = list(_modules())
    found: list[str] = []
    own: set[str] = set()
    overrides: set[str] = set()
    for module, path, tree in modules:
        found += private_imports(path, tree)
        offending, names = private_overrides(module, path, tree)
        found += offending
        overrides |= names
        own |= defined_names(tree)
    own -= overrides
    for _module, path, tree in modules:
        found += private_attributes(path, tree, own)
    return found


def test_caseshare_uses_only_public_names_of_its_dependencies() -> None:
    found = problems()
    assert not found, "private names of dependencies used:\n  " + "\n  ".join(found)


@pytest.mark.parametrize(("source", "expected"), [
    ("from sqlalchemy.engine import _row_cy\n", "import _row_cy"),
    ("import flask_limiter._extension\n", "import flask_limiter._extension"),
    ("def f(c):\n    return c._handle_dbapi_exception\n", "._handle_dbapi_exception"),
    ("import sqlalchemy\nx = sqlalchemy._NoArg\n", "._NoArg"),
])
def test_the_check_finds_each_kind(source: str, expected: str) -> None:
    tree = ast.parse(source)
    path = PACKAGE / "example.py"
    found = private_imports(path, tree) + private_attributes(path, tree, defined_names(tree))
    assert any(expected in line for line in found), found


def test_the_check_finds_a_private_override() -> None:
    from flask_smorest import Api

    class Probe(Api):  # type: ignore[misc]
        def _register_error_handlers(self) -> None:
            return None

    assert _overridden_owner(Probe, "_register_error_handlers") == "flask_smorest.error_handler"
    assert _overridden_owner(Probe, "_not_a_name_of_the_base") is None
