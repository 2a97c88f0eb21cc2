"""E-mail backends standing in for a mail server that fails, the way smtplib fails."""

from __future__ import annotations

import smtplib

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class Down(BaseEmailBackend):
    """The mail server refuses connections."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RefusesSomeAddresses(BaseEmailBackend):
    """Delivers to the test outbox, except to addresses starting with "bounce"."""

    def send_messages(self, email_messages):
        for message in email_messages:
            refused = [r for r in message.recipients() if r.startswith("bounce")]
            if refused:
                raise smtplib.SMTPRecipientsRefused({r: (550, b"No such user") for r in refused})
            mail.outbox.append(message)
        return len(email_messages)
