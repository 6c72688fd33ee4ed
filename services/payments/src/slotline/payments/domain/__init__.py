"""The payments domain: money, the per-booking ledger, quotes. Pure Python, no I/O."""
