"""The committee's periodic work: chase overdue sign-offs, escalate perpetual pilots, open the
monthly value reviews and enforce exit criteria. Each job takes an aware `now` and is idempotent
under a unique key; governance/schedule.py runs them in order."""
