"""The search page for clerks: `arkhiv serve` (FastAPI, Jinja2 templates, uvicorn)."""
