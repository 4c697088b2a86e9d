from django.apps import AppConfig


class PaperworkConfig(AppConfig):
    name = "paperwork"
    verbose_name = "Paperwork: Good Faith Estimates and superbills"

    def ready(self) -> None:
        from notifications import registry
        from paperwork import emails, estimates, panels
        from scheduling import hooks, patient_panels

        # Every booking change of a series, in its transaction
        # (docs/paperwork.md#when-an-estimate-is-issued).
        hooks.register_series_observer(estimates)
        registry.register(estimates.EMAIL_KIND, emails.resolve, "Good Faith Estimate")
        patient_panels.register_panel(
            patient_panels.Panel(
                name="paperwork", template="paperwork/panel.html", context=panels.context, order=50
            )
        )
