"""The README is the front door and docs/ the rest: every relative link in them resolves (the
file, and the heading an anchor names), every page is one link from the README, the README
stays short, and every target `make help` lists is documented somewhere."""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 250
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # https:, mailto:, ...
PARSER = MarkdownIt("commonmark").enable("table")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped,
    spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    tokens = PARSER.parse(markdown)
    found: set[str] = set()
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            base = slug(inline.content.replace("`", ""))
            name, n = base, 0
            while name in found:  # a repeated heading gets -1, -2, ...
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(markdown: str) -> Iterator[str]:
    """Every link target outside code, as written."""
    for token in PARSER.parse(markdown):
        for child in token.children or ():
            if child.type == "link_open":
                yield str(child.attrs["href"])


def broken(page: Path) -> list[str]:
    """Each relative link of `page` whose file or heading does not exist."""
    problems = []
    for target in links(page.read_text()):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            problems.append(f"{page.name}: {target}: no file {path}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            problems.append(f"{page.name}: {target}: no heading #{anchor} in {linked.name}")
    return problems


def make_help_targets() -> list[str]:
    command = ["make", "--no-print-directory", "help"]
    try:
        shown = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(command)}` still ran after 60 s")
    return re.findall(r"^  make (\S+)", shown, re.M)


def undocumented(targets: list[str], texts: list[str]) -> list[str]:
    return [t for t in targets if not any(re.search(rf"`make {re.escape(t)}\b", x) for x in texts)]


def test_every_relative_link_resolves() -> None:
    assert [problem for page in [README, *PAGES] for problem in broken(page)] == []


def test_every_page_is_one_link_from_the_readme() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in links(README.read_text())
        if not EXTERNAL.match(target)
    }
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


def test_the_readme_is_a_front_door() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_every_make_target_is_documented() -> None:
    targets = make_help_targets()
    assert "test" in targets and "local" in targets, targets
    texts = [page.read_text() for page in [README, *PAGES]]
    assert undocumented(targets, texts) == []


def test_a_broken_link_and_a_broken_anchor_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Set-up, step 2\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#set-up-step-2) [gone](missing.md) [typo](other.md#setup)\n"
        "[self](#page) [web](https://example.com)\n\n```\n[in code](nowhere.md)\n```\n"
    )
    assert broken(page) == [
        "page.md: missing.md: no file missing.md",
        "page.md: other.md#setup: no heading #setup in other.md",
    ]


def test_an_undocumented_target_is_found() -> None:
    texts = ["run `make local`, then `make token USER=alice`"]
    assert undocumented(["local", "token", "teleport"], texts) == ["teleport"]
