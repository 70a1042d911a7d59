"""Comment storms: a page suddenly drawing far more customer comments than its own baseline for
that time of the week (``rule`` is the pure test, ``steps`` the cron that applies it)."""
