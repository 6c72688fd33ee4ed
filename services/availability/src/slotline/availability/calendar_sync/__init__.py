"""Two-way sync of resources with external calendars: the port, its CalDAV adapter, the
link store, and the pull and push jobs (rules in ``domain/calendar_sync.py``)."""
