import ast
from pathlib import Path

DOMAIN = Path(__file__).parents[2] / "domain"
FORBIDDEN = (
    "psycopg",
    "litestar",
    "twilio",
    "httpx",
    "requests",
    "uvicorn",
    "apscheduler",
    "eventsourcing.postgres",
    "eventsourcing.application",
    "socket",
    "application",
    "interfaces",
    "projections",
)


def test_domain_imports_no_framework_database_or_network_code() -> None:
    for path in DOMAIN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
