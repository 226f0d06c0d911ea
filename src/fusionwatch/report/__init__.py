"""Renderers of an assessment: terminal, HTML/PDF, charts and the rulebook."""
