"""The web app: patient self-check, clinician workspace and JSON API (FastAPI + Jinja2)."""
