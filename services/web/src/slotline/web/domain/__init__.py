"""Pure rules of the pages (no I/O): calendars, day sheets, SLA urgency, colours."""
