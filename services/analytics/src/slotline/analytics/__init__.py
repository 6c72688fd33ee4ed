"""Slotline analytics: business KPIs from the public event topics only."""
