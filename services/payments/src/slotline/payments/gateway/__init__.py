"""The gateway port and its adapters: Stripe, and a simulated card network."""
