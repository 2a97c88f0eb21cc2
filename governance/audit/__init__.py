"""What auditors do with the ledger: verify it (nightly and on demand), export it, anchor it, and
rebuild what each signer saw. Above the reviews room, whose gate facts the rebuild replays."""
