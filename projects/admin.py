# The portfolio's models are registered by governance/workspace/admin.py, beside the gate checklist.
