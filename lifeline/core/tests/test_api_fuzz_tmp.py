import pytest, schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import settings, HealthCheck
from lifeline.core.tests.test_api_support import make_registry, token_client

pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture
def setup(library_a, library_b, librarian_a):
    make_registry(library_a, "A"); make_registry(library_b, "B")
    from lifeline.core.models import ApiToken
    obj, tok = ApiToken.issue(librarian_a, "fuzz")
    return tok

def test_fuzz(setup, live_server):
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    failures = []
    for op in schema.get_all_operations():
        op = op.ok()
        if not (op.path.startswith("/api/core") or op.path.startswith("/api/registry")):
            continue
        strat = op.as_strategy()
        from hypothesis import given
        @given(case=strat)
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {setup}"
            resp = case.call()
            try:
                from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance, negative_data_rejection, missing_required_header, unsupported_method
                case.validate_response(resp, excluded_checks=[ignored_auth, positive_data_acceptance, negative_data_rejection, missing_required_header, unsupported_method])
            except Exception as e:
                failures.append((op.method, op.path, resp.status_code, str(e)[:600])); print('FAIL', failures[-1], flush=True)
        try:
            run()
        except Exception as e:
            failures.append((op.method, op.path, "X", str(e)[:400]))
    seen=set()
    for f in failures:
        k=(f[0],f[1],str(f[3])[:80])
        if k in seen: continue
        seen.add(k); print(f)
    assert not failures
