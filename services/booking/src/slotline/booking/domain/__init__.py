"""The booking domain: bookings and their saga state, policies, customers. Pure, no I/O."""
