from django.apps import AppConfig


class PaperworkConfig(AppConfig):
    name = "paperwork"
    verbose_name = "Paperwork: Good Faith Estimates and superbills"

    def ready(self) -> None:
        from billing import hooks as billing_hooks
        from notifications import registry
        from paperwork import billed, emails, estimates, panels
        from scheduling import hooks, patient_panels, signals

        # Every booking change of a series, in its transaction
        # (docs/paperwork.md#when-an-estimate-is-issued).
        hooks.register_series_observer(estimates)
        # Every charge billing records, in its transaction: a bill $400 above the estimate is
        # flagged (docs/paperwork.md#bills-above-the-estimate).
        billing_hooks.register_charge_observer(billed)
        # Visits and boosters, after their change commits (docs/paperwork.md#visits-and-boosters).
        for signal in (signals.visit_booked, signals.visit_moved, signals.visit_cancelled):
            signal.connect(estimates.on_visit_changed, dispatch_uid="paperwork-estimates")
        for signal in (signals.booster_booked, signals.booster_moved, signals.booster_cancelled):
            signal.connect(estimates.on_booster_changed, dispatch_uid="paperwork-estimates")
        registry.register(estimates.EMAIL_KIND, emails.resolve, "Good Faith Estimate")
        patient_panels.register_panel(
            patient_panels.Panel(
                name="paperwork", template="paperwork/panel.html", context=panels.context, order=50
            )
        )
