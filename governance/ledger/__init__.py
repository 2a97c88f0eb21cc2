"""The decision ledger: the append-only, signed Merkle-tree record of every decision, its event
catalogue, canonical byte form, sequencer, checkpoints and database guards. The bottom room: it
imports only the models."""
