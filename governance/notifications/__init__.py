"""Notifications: the events people and integrations are told about, their delivery per channel and
recipient, and the text that goes into each message."""
