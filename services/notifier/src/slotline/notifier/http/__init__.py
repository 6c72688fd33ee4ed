"""The notifier's HTTP routes (thin: parse, authorise, call the application)."""
