"""`wallguard dev`: the whole stack on one machine (embedded servers, children, demo data)."""
