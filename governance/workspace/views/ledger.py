"""The auditor's pages of the ledger: export a period or an initiative as a verifiable bundle, and
verify the whole ledger against the checkpoints the witnesses hold."""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.access.selectors import visible_initiatives
from governance.audit.services import latest_witnessed_checkpoints, ledger_export
from governance.errors import DomainError
from governance.ledger.signing import ledger_verifier_keys
from governance.ledger.verification import ChainBroken, load_checkpoint, verify_ledger
from governance.workspace.admin.access import access
from governance.workspace.views import forms
from governance.workspace.views.common import admin_page, form_page, refused

VERIFIER = Path(__file__).resolve().parents[3] / "tools" / "verify_export.py"
# Translators: the text file in the export's zip. %(export)s is the export's file name. Keep the
# command line, its options and the file names as they are.
HOW_TO_VERIFY = gettext_lazy("""How to verify this export, with no access to ValueGate

  python3 verify_export.py %(export)s --public-key ledger.pub --checkpoint checkpoint.txt

verify_export.py needs Python 3.11 and the `cryptography` package. Trust ledger.pub only if it
is the public key you were given by other means (compare it with the one you keep): a key sent
with the export proves nothing on its own. Add --checkpoint for every checkpoint you kept from
earlier, and --receipt for every decision receipt you hold.
""")


def _require_auditor(request) -> None:
    if not access(request).may_audit_ledger():
        raise PermissionDenied(_("Only auditors export and verify the ledger."))


def _changelist() -> str:
    return reverse("admin:governance_ledgerevent_changelist")


def export_page(request, model_admin):
    """The export form; its answer is a zip: the export, its checkpoint, the public key, the verifier."""
    _require_auditor(request)
    form = forms.LedgerExportForm(request.POST or None, initiatives=visible_initiatives(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        out = tempfile.TemporaryFile()  # closed by the response once sent
        try:
            summary = ledger_export(
                actor=request.user,
                out=out,
                fmt=data["format"],
                since=data["since"],
                until=data["until"],
                initiative=data["initiative"],
            )
        except DomainError as error:
            out.close()
            refused(request, error, form)
        else:
            return _bundle(out, summary, data["format"])
    return form_page(
        request,
        model_admin,
        title=_("Export the ledger for an audit"),
        form=form,
        back_url=_changelist(),
        submit_label=_("Export and download"),
        intro=_(
            "The download holds the export, the checkpoint it is proved against, the ledger's public "
            "key and the offline verifier. The export is recorded in the ledger."
        ),
    )


def _bundle(export_file, summary, fmt: str) -> FileResponse:
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"valuegate-ledger-{stamp}.{fmt}"
    export_file.seek(0)
    bundle = tempfile.TemporaryFile()
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w") as member:
            while chunk := export_file.read(1 << 20):
                member.write(chunk)
        export_file.close()
        archive.writestr("checkpoint.txt", summary.checkpoint.note)
        archive.writestr("ledger.pub", "".join(key.text + "\n" for key in ledger_verifier_keys().values()))
        archive.write(VERIFIER, "verify_export.py")
        archive.writestr("HOW-TO-VERIFY.txt", HOW_TO_VERIFY % {"export": name})
    bundle.seek(0)
    return FileResponse(bundle, as_attachment=True, filename=f"valuegate-ledger-{stamp}.zip")


def verify_page(request, model_admin):
    """Rebuild the ledger from the database against the newest checkpoint of every witness."""
    _require_auditor(request)
    outcome = None
    if request.method == "POST":
        keys = ledger_verifier_keys()
        try:
            checkpoints = [load_checkpoint(path, keys) for path in latest_witnessed_checkpoints()]
            summary = verify_ledger(checkpoints=checkpoints, strict=True)
        except ChainBroken as broken:
            # Translators: the event's sequence number in the ledger, and what is wrong with it.
            outcome = {
                "intact": False,
                "text": _("FAILED at event #%(seq)s: %(problem)s.")
                % {"seq": broken.seq, "problem": broken.problem},
            }
        except ValueError as unreadable:
            outcome = {"intact": False, "text": str(unreadable)}
        else:
            checked = ", ".join(
                # Translators: the number of events a witness's checkpoint covers; a list of them follows
                # "Checkpoints from the witnesses:".
                ngettext("%(size)s event", "%(size)s events", c.size) % {"size": c.size}
                for c in checkpoints
            ) or _("none: no witness is configured")
            outcome = {
                "intact": True,
                # Translators: the number of events, the Merkle tree's root hash, and the list of checkpoints.
                "text": ngettext(
                    "Intact: %(count)s event, every signature verified, tree root %(root)s. "
                    "Checkpoints from the witnesses: %(checkpoints)s.",
                    "Intact: %(count)s events, every signature verified, tree root %(root)s. "
                    "Checkpoints from the witnesses: %(checkpoints)s.",
                    summary.count,
                )
                % {"count": summary.count, "root": summary.head_hash, "checkpoints": checked},
            }
        level = messages.SUCCESS if outcome["intact"] else messages.ERROR
        messages.add_message(request, level, str(outcome["text"]))
    return admin_page(
        request,
        model_admin,
        "governance/admin/ledger_verify.html",
        title=_("Verify the ledger"),
        outcome=outcome,
        back_url=_changelist(),
    )
