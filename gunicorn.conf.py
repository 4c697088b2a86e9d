"""gunicorn's settings wherever the app is served (Dockerfile, docker compose, bench.pages):
gunicorn reads this file from its working directory, the project root.

The logs go through clinic.accesslog, which cuts link tokens to their first characters and drops
query values, so a log never holds what opens a link or what a person typed."""

logger_class = "clinic.accesslog.RedactingLogger"
