from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Prices, payments and the ledger"

    def ready(self) -> None:
        from billing import bookings, emails, panels
        from scheduling import hooks, patient_panels

        # The money that follows scheduling's changes (docs/payments.md#how-money-flows).
        hooks.register_billing_hook(bookings)
        emails.register_kinds()
        patient_panels.register_panel(panels.BALANCE)
