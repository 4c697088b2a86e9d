"""Two issuers of one series at once (the patient's request beside the hourly sweep or a
booking change): the series' row lock lets one issue and the other find it issued. With
PAPERWORK_SERIES_LOCK=off the lock is switched off and the test must go red
(docs/paperwork.md#when-an-estimate-is-issued)."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import pytest
from django.db import connections

from paperwork import estimates
from paperwork.models import Estimate, PlanDiagnosis
from scheduling.models import Series
from tests.test_paperwork_estimates import _book

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_requests_at_once_reissue_one_estimate(monkeypatch):
    plan, series, _first = _book()
    # The scope changed since (a code added) and nothing reissued it yet: both requests see it.
    PlanDiagnosis.objects.create(plan=plan, code="G89.4", description="Chronic pain", position=9)
    if os.environ.get("PAPERWORK_SERIES_LOCK", "on") == "off":
        monkeypatch.setattr(
            estimates,
            "_locked_series",
            lambda pk: Series.objects.select_related(
                "plan__approved_by", "location", "patient"
            ).get(pk=pk),
        )
    built_both = threading.Barrier(2, timeout=1)
    build = estimates.build_content

    def build_then_wait(*args: Any, **kwargs: Any) -> Any:
        built = build(*args, **kwargs)
        # Broken: the other waits for the lock (or is done), so this one goes on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            built_both.wait()
        return built

    monkeypatch.setattr(estimates, "build_content", build_then_wait)
    start = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = estimates.request_estimate(plan.patient)
        except Exception as error:  # asserted below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Estimate.objects.filter(series=series).count() == 2  # the first and one reissue
    current = Estimate.objects.current().get(series=series)
    assert {r.pk for r in results if isinstance(r, Estimate)} == {current.pk}
