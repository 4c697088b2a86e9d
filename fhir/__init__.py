"""The read-only FHIR R4 API.

The fhir.resources library (the tests' validator) is a package named `fhir` too: this package's
path is extended with it, so `fhir.resources` finds the library, and no module here may be named
`resources` (the mapping of the app's records is `fhir.mapping`).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
