"""Initiatives through their gates: proposals, gate facts and readiness, reviews, sign-offs,
conditions, gate policies, the queue, and the periodic chasing of sign-offs and pilots."""
