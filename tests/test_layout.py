"""The test suite's own layout, checked by a machine (CONVENTIONS.md §8).

- Every test module has a name of its own: ``tests/<app>/test_<feature>.py``
  is found by its name alone.
- Helpers are imported from named modules (tests/flows.py, tests/jwts.py,
  tests/factories.py), never from a test module; a conftest is imported only
  by the modules of its own folder.
"""

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def python_files():
    return [path for path in TESTS.rglob("*.py") if "node_modules" not in path.parts]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def allowed(module: str, folder: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    if name.startswith("test_"):
        return False
    return name != "conftest" or module == f"{folder}.conftest"


def test_test_module_names_are_unique():
    places = defaultdict(list)
    for path in python_files():
        if path.name.startswith("test_"):
            places[path.name].append(str(path.relative_to(TESTS)))
    assert {name: found for name, found in places.items() if len(found) > 1} == {}


def test_no_module_imports_a_test_module_or_another_folders_conftest():
    wrong = []
    for path in python_files():
        folder = ".".join(("tests", *path.relative_to(TESTS).parent.parts))
        for module in imported_modules(path):
            if module.startswith("tests.") and not allowed(module, folder):
                wrong.append(f"{path.relative_to(TESTS)} imports {module}")
    assert wrong == []
