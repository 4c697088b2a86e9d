from pathlib import Path

from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "fhir"
    verbose_name = "FHIR API"
    # The package's path is extended with the fhir.resources library's (fhir/__init__.py);
    # Django needs to be told which directory is the app's.
    path = str(Path(__file__).resolve().parent)
