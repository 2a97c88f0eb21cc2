# The portfolio's models are registered by governance/admin.py, beside the gate checklist.
