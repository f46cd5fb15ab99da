"""The one hard line of the house: nothing outside goodsad_studio/gui/ imports Qt or pyqtgraph."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "goodsad_studio"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "qtpy", "shiboken6")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_core_module_imports_qt():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "gui" in path.relative_to(PACKAGE).parts:
            continue
        bad = _imports(path) & set(FORBIDDEN)
        if bad:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert not offenders, "Qt outside goodsad_studio/gui/:\n" + "\n".join(offenders)


def test_importing_the_core_and_cli_loads_no_qt():
    code = (
        "import sys, goodsad_studio.cli, goodsad_studio.dataset.index, goodsad_studio.dataset.validation, "
        "goodsad_studio.dataset.imageio; "
        f"print([m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
