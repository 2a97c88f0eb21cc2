"""Services: the only code that changes state. Each runs in one transaction and writes the ledger."""
