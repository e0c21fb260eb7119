"""Property-based fuzzing of the API from its OpenAPI schema, every schemathesis check on:
no 5xx, every answer's status, content type, headers and body as the schema documents
them, schema-valid input accepted and schema-invalid input refused, 405s with `Allow`,
401 without credentials. Bounded for the suite; docs/fuzzing.md has the long run.
"""

import os

from tests.e2e.fuzzing import fuzz_target, run_schemathesis

# Per operation: ~2,500 cases in all, about a minute on two cores.
MAX_EXAMPLES = int(os.environ.get("HERALD_FUZZ_EXAMPLES", "120"))
SEED = int(os.environ.get("HERALD_FUZZ_SEED", "9"))  # the same cases each run unless set


def test_the_api_holds_to_its_schema_under_fuzzing(database_url: str, figure) -> None:
    with fuzz_target(database_url, f"herald_fuzz_{os.getpid()}") as (url, tenant):
        done = run_schemathesis(url, tenant, MAX_EXAMPLES, SEED, capture=True)
    summary = done.stdout[done.stdout.rfind("Test cases:") :].splitlines()[1:2]
    figure(f"schemathesis, every check, seed {SEED}: {' '.join(summary).strip()}")
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
