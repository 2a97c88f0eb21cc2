"""The committee workspace's pages inside the admin: each view checks the role rules and calls a service."""
