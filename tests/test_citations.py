"""The report cites its sources by author and year, lists them, and never names a file that is not in the
repository."""

import re
from pathlib import Path

import pytest

from poselab.references import REFERENCES, SOURCES, cite, markdown_list

REPO = Path(__file__).resolve().parents[1]
# Names of the workplace's files beside the repository, which a reader of the report never sees.
OUTSIDE = re.compile(r"\bseed 00\d|\bSeed 00\d|\bseeds/|\bFACTS\b|\bSPEC(\.md)?\b|\bissue \d+|\.\./shared")


def _texts():
    files = [*sorted((REPO / "lib").rglob("*.py")), *sorted((REPO / "lib").rglob("*.md")),
             *sorted((REPO / "notebooks").glob("*.ipynb")), *sorted((REPO / "docs").glob("*.md")), REPO / "README.md",
             REPO / "Makefile",
             REPO / "data_manifest.yaml"]
    return [(p, p.read_text()) for p in files if "egg-info" not in p.parts]


def test_no_text_names_a_file_outside_the_repository():
    hits = [f"{p.relative_to(REPO)}: {m.group(0)!r}" for p, text in _texts() for m in OUTSIDE.finditer(text)]
    assert not hits, "\n".join(hits)


def test_the_check_would_catch_a_seed_file_name():
    assert OUTSIDE.search("as seed 002 reports") and OUTSIDE.search("see FACTS.md") and not OUTSIDE.search("seed 2")


def test_citations_are_by_author_and_year_and_every_reference_is_listed():
    assert cite("he2023", "suppl. Table C") == "He et al. 2023, suppl. Table C"
    assert cite("budaraju2020") == "Budaraju 2020"
    with pytest.raises(KeyError, match="unknown reference"):
        cite("seed001")
    listed = markdown_list()
    assert all(f"**{r.short}**" in listed for r in REFERENCES.values())
    assert listed.index("**Budaraju 2020**") < listed.index("**Newell et al. 2016**")  # the source documents first
    assert len(SOURCES) == 5 and all(REFERENCES[k].role.startswith("Source of notebook") for k in SOURCES)


def test_the_readme_lists_the_references():
    readme = (REPO / "README.md").read_text()
    assert "## References" in readme
    missing = [r.short for r in REFERENCES.values() if r.short not in readme]
    assert not missing, missing
