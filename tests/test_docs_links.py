"""The documentation holds together: every relative link and image in README.md and docs/*.md points at a file that
exists (and at a heading that exists, for links into a section), and the user guide's shortcut tables are the
studio's own command table, so a renamed file or a changed shortcut cannot leave the docs quietly wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are examples, not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            name, n = base, 1
            while name in found:
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t)]  # no http:, mailto: ...


def test_the_pages_exist_and_link_somewhere():
    assert (ROOT / "docs" / "index.md") in PAGES and (ROOT / "docs" / "user-guide.md") in PAGES
    assert all(relative_links(page) for page in PAGES if page.name in ("README.md", "index.md", "user-guide.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_image_resolves(page: Path):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file {destination}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with the anchor #{anchor} in {destination.name}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_the_slug_rule_matches_githubs():
    assert slug("3. Fix a mask") == "3-fix-a-mask"
    assert (
        slug("Read-only datasets and where the studio keeps its state")
        == "read-only-datasets-and-where-the-studio-keeps-its-state"
    )
    assert slug("Triage: likely annotation mistakes") == "triage-likely-annotation-mistakes"


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The body rows of the markdown table whose header line is ``header``."""
    lines = text.splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_the_guides_shortcuts_are_the_command_table():
    pytest.importorskip("PySide6")
    from goodsad_studio.gui.commands import COMMANDS, GROUPS, POINTER_HELP

    text = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    documented = [
        (menu, command, tuple(k.strip().strip("`") for k in keys.split(", ")) if keys.strip() != "—" else ())
        for menu, command, keys in _table_rows(text, "| Menu | Command | Keys |")
    ]
    expected = [
        (c.group, c.text.replace("&", "").rstrip("."), c.keys) for group in GROUPS for c in COMMANDS if c.group == group
    ]
    assert documented == expected
    pointer = [tuple(row) for row in _table_rows(text, "| Pointer | Does |")]
    assert pointer == [tuple(item) for item in POINTER_HELP]
