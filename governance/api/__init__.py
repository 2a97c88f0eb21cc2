"""The REST API for project leads, integrations, the committee and auditors (`/api/v1/`).

Views validate input with strict serializers and call the same services as the admin; they never
save a model themselves.
"""
