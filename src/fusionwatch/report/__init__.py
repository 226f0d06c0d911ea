"""Printable reports (PDF) rendered from the web app's own templates."""
