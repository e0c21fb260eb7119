import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_every_module_named_in_the_architecture_page_exists_and_every_package_is_named() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    named = set(
        re.findall(r"`((?:domain|application|projections|interfaces)/[\w/]+\.(?:py|sql))`", page)
    )
    assert named, "the layout table names no module"
    missing = [path for path in named if not (ROOT / path).exists()]
    assert missing == []
    for package in ("domain", "application", "projections", "interfaces"):
        modules = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / package).glob("*.py")
            if p.name != "__init__.py"
        }
        unnamed = modules - named
        assert unnamed == set(), f"modules not described in docs/architecture.md: {sorted(unnamed)}"
