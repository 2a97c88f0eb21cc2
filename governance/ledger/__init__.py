"""The decision ledger: the append-only, hash-chained record of every decision, its event catalogue,
canonical byte form and database guards. The bottom room: it imports only the models."""
