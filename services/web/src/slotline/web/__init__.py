"""Slotline web: the customer's booking page and the front-desk console."""
