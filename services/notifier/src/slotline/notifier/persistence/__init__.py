"""The notifier's PostgreSQL rows: bookings, the message queue, deliveries, windows."""
