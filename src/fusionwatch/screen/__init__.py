"""Cohort screening: sources to one episode table, the rules compiled to SQL, DuckDB or Spark."""
