"""Telling people: the outbox written in the decision's transaction and its relay."""
