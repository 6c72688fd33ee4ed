"""A local card network that behaves like Stripe's test mode: for ``make run`` and tests.

It keeps its own state in its own PostgreSQL schema (the outside world survives a
payments restart, and ``slotline-payments reconcile`` can ask it from another process),
honours idempotency keys, and sends signed webhooks asynchronously — late, duplicated
and out of order when asked to.
"""
