import ast
from pathlib import Path

APPLICATION = Path(__file__).parents[2] / "application"
# The use cases are short and synchronous; threads, event loops, the database driver and
# the web and Twilio frameworks are the runtime's, in interfaces/.
FORBIDDEN = ("psycopg", "litestar", "twilio", "threading", "queue", "asyncio")


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_application_imports_no_threads_event_loops_database_driver_or_frameworks() -> None:
    for path in APPLICATION.glob("*.py"):
        for name in imported(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"application/{path.name} imports {name}"
