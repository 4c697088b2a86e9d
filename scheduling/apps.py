from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from review import evaluations
        from scheduling import visits

        # The review queue and the approval rule read evaluation visits through review's
        # registry (docs/architecture.md#signal-wiring).
        evaluations.register_reader(visits.evaluation_states)
