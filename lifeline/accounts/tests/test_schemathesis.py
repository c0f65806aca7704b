"""Fuzz the whole API from its OpenAPI document: no 5xx, every response as documented.

Runs in `make test` with a small number of examples per operation (LIFELINE_FUZZ_EXAMPLES,
default 4), as library A's administrator (a Bearer token), over a library filled with records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lifeline.accounts.tests import world
from lifeline.core.models import ApiToken

EXAMPLES = int(os.environ.get("LIFELINE_FUZZ_EXAMPLES", "4"))


def _load_schema() -> Any:
    # Loaded at collection (pytest-django has set Django up); the document needs no database.
    from lifeline.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    # The coverage phase sends every boundary case of every parameter (hundreds per operation):
    # too slow for every `make test`; random fuzzing with a few examples finds the 500s.
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = _load_schema()


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """The WSGI handler closes database connections at the end of each request, which would end
    the test's transaction on PostgreSQL; Django's own test client unhooks this the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(library_a: Any, admin_a: Any, _keep_test_connection: None) -> str:
    world.build(library_a)
    return ApiToken.issue(admin_a, "fuzzing")[1]


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, admin_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
