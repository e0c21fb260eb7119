"""docs/architecture.md's layout table against the tree, at every depth: it names every
module of Herald's packages (and of the simulator and the test harness), and nothing else."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("domain", "application", "projections", "interfaces", "simulator", "harness")


def named_in_the_architecture_page() -> set[str]:
    page = (ROOT / "docs" / "architecture.md").read_text()
    packages = "|".join(PACKAGES)
    return set(re.findall(rf"`((?:{packages})/[\w/]+\.(?:py|sql))`", page))


def modules_in_the_tree() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }


def test_every_module_the_architecture_page_names_exists() -> None:
    named = named_in_the_architecture_page()
    assert named, "the layout table names no module"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"docs/architecture.md names modules that do not exist: {missing}"


def test_every_module_at_every_depth_is_named_in_the_architecture_page() -> None:
    unnamed = sorted(modules_in_the_tree() - named_in_the_architecture_page())
    assert unnamed == [], f"modules not described in docs/architecture.md: {unnamed}"
