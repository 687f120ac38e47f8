"""core.memo: a value found once per request, forgotten when a model is saved, computed afresh outside one."""

import pytest

from metodist.core import memo


def test_outside_a_request_every_call_computes():
    calls = []
    assert memo.per_request("k", lambda: calls.append(1) or len(calls)) == 1
    assert memo.per_request("k", lambda: calls.append(1) or len(calls)) == 2


@pytest.mark.django_db
def test_inside_a_request_once_until_a_model_is_saved():
    from metodist.core.models import Organisation, OrganisationKind

    calls = []

    def view(request):
        first = memo.per_request("k", lambda: calls.append(1) or len(calls))
        again = memo.per_request("k", lambda: calls.append(1) or len(calls))
        Organisation.objects.create(kind=OrganisationKind.REGION, code="memo-r", short_name="Р", full_name="Р")
        after_save = memo.per_request("k", lambda: calls.append(1) or len(calls))
        return first, again, after_save

    assert memo.RequestMemoMiddleware(view)(None) == (1, 1, 2)
    # the next request starts empty
    assert memo.RequestMemoMiddleware(lambda r: memo.per_request("k", lambda: "fresh"))(None) == "fresh"
