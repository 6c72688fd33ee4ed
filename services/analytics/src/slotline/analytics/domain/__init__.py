"""What analytics knows of the business: the facts it reads off the public streams and
the KPIs worked out from them (pure, no I/O)."""
