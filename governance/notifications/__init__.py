"""Telling people: the outbox written in the decision's transaction, the events people and
integrations are told about, their delivery per channel and recipient with its retries, and the text
that goes into each message."""
