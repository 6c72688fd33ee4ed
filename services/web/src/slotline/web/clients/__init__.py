"""Ports to the other services, over their public HTTP APIs (no shared code or tables)."""
