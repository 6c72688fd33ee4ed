"""The payments HTTP API: quotes, ledgers, receipts, gateway webhooks, reconciliation."""
