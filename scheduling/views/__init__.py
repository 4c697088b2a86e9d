"""Scheduling's pages, one module per audience: `desk`, `patient` (the patient's home and
appointments), `self_service` (patients booking their own series), `links` (pages behind a
signed token), `settings` (closed days), `worklist` (the staff worklists). `scheduling/urls.py`
imports the modules; this package exports nothing."""
