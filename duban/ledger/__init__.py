"""The problem ledger (台账): its columns, its import, its export and blank template."""
