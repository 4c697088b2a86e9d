"""Celery tasks of the paperwork: ids only, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task
def store_estimate_pdf(estimate_id: int) -> bool:
    """After an estimate is issued: draw and store its PDF (the first stored wins)."""
    from paperwork import documents
    from paperwork.models import Estimate

    estimate = Estimate.objects.filter(pk=estimate_id).first()
    if estimate is None:
        return False
    documents.store_estimate_pdf(estimate)
    return True


@shared_task
def open_estimate_tasks() -> int:
    """Every hour (beat): owed estimates near or past their deadline on the desk's worklist."""
    from paperwork import sweep

    return sweep.open_estimate_tasks()
