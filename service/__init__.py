"""Steward's edges: the HTTP API, the web app, settings, database wiring, migrations, workers and CLI."""
