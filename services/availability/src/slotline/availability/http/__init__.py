"""The availability service's HTTP API (admin, holds, live slot views)."""
