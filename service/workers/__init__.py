"""arq job entry points. Jobs take ids only, load their state from Postgres, re-check it, and are
safe to run twice."""
