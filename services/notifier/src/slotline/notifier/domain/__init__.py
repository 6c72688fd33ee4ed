"""The notifier's business rules: pure Python, no I/O."""
