"""The README is the front door and docs/ the rest: every relative link in them resolves (the
file, and the heading an anchor names), every page is one link from the README, the README
stays short, and every target `make help` lists is documented somewhere."""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 250
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # https:, mailto:, ...
PARSER = MarkdownIt("commonmark").enable("table")
HELP = ["make", "--no-print-directory", "help"]
HELP_TIMEOUT_S = 60


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: lower case, punctuation but `-` and `_` dropped,
    each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def text_of(inline: Token) -> str:
    """A heading's text as rendered (what GitHub slugs): code without its backticks, a link's
    words without its target, emphasis without its marks."""
    return "".join(
        child.content for child in inline.children or () if child.type in {"text", "code_inline"}
    )


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    for opening, inline in itertools.pairwise(PARSER.parse(markdown)):
        if opening.type == "heading_open":
            base = slug(text_of(inline))
            name, n = base, 0
            while name in found:  # a repeated heading gets -1, -2, ...
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def links(markdown: str) -> Iterator[str]:
    """Every link target outside code, as written (the parser leaves code blocks and spans
    alone, so an example link in one is not checked)."""
    for token in PARSER.parse(markdown):
        for child in token.children or ():
            if child.type == "link_open":
                yield unquote(str(child.attrs["href"]))


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


def targets_in(help_output: str) -> list[str]:
    """The targets of `make help`'s output: `  make NAME  summary` lines (the variables under
    each are indented further)."""
    return re.findall(r"^  make (\S+)", help_output, re.M)


def make_help_targets() -> list[str]:
    try:
        shown = subprocess.run(
            HELP, cwd=ROOT, capture_output=True, text=True, check=True, timeout=HELP_TIMEOUT_S
        ).stdout
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(HELP)}` still ran after {HELP_TIMEOUT_S} s")
    return targets_in(shown)


def undocumented(targets: list[str], texts: list[str]) -> list[str]:
    """Targets no text names as `make <target>`; a name is whole, so `make deploy-all` does
    not document `deploy`."""
    return [
        target
        for target in targets
        if not any(re.search(rf"(?<![\w-])make {re.escape(target)}(?![\w-])", t) for t in texts)
    ]


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
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines, more than {MAX_README_LINES}; move detail to docs/"
    )


def test_every_make_target_is_documented() -> None:
    targets = make_help_targets()
    assert {"help", "test", "local"} <= set(targets), targets  # the parse found the list
    texts = [page.read_text() for page in [README, *PAGES]]
    assert undocumented(targets, texts) == []


def test_a_broken_link_and_a_broken_anchor_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Set-up, `step` 2\n\n## [Linked](x.md)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#set-up-step-2) [gone](missing.md) [typo](other.md#setup)\n"
        "[self](#page) [heading link](other.md#linked) [web](https://example.com)\n"
        "[mail](mailto:someone@example.com)\n\n```\n[in code](nowhere.md)\n```\n"
    )
    assert broken(page) == [
        "page.md: missing.md: no file missing.md",
        "page.md: other.md#setup: no heading #setup in other.md",
    ]


def test_an_undocumented_target_is_found() -> None:
    shown = (
        "  make local        The whole stack\n      PORT             3000\n"
        "  make deploy-all   Each region\n  make deploy       One region\n"
        "  make teleport     Nowhere documented\n"
    )
    assert targets_in(shown) == ["local", "deploy-all", "deploy", "teleport"]
    texts = ["run `make local`, then `make deploy-all REGIONS=..`"]
    assert undocumented(targets_in(shown), texts) == ["deploy", "teleport"]
