"""Who may do what: the permission matrix, the role groups, committee membership and its ledger
record, the checks every service makes before it acts, and the log of refused requests."""
