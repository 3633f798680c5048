"""Google API errors become the project's errors at the `gcp apply` adapters' boundary."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as api
from google.auth.exceptions import DefaultCredentialsError

from tipoff.adapters.gcp.common import google_errors
from tipoff.errors import ConfigurationError, PermanentError, TransientError


@pytest.mark.parametrize(("raised", "expected"), [
    (api.PermissionDenied("no"), PermanentError),
    (api.Forbidden("no"), PermanentError),
    (api.BadRequest("bad field"), PermanentError),
    (api.Unauthenticated("expired"), ConfigurationError),
    (DefaultCredentialsError("none"), ConfigurationError),
    (api.TooManyRequests("quota"), TransientError),
    (api.ServiceUnavailable("down"), TransientError),
    (api.DeadlineExceeded("slow"), TransientError),
    (ConnectionRefusedError("refused"), TransientError),
])
def test_each_google_error_becomes_one_of_ours_chained_from_it(raised, expected) -> None:
    with pytest.raises(expected) as caught:
        with google_errors("applying thing x", "roles/thing.admin"):
            raise raised
    assert caught.value.__cause__ is raised


def test_a_permission_denied_names_the_action_and_the_missing_role() -> None:
    with pytest.raises(PermanentError) as caught:
        with google_errors("applying Cloud Scheduler job tipoff-start", "roles/cloudscheduler.admin"):
            raise api.PermissionDenied("Permission 'cloudscheduler.jobs.create' denied")
    assert str(caught.value).startswith(
        "permission denied applying Cloud Scheduler job tipoff-start: the caller needs "
        "roles/cloudscheduler.admin (")
