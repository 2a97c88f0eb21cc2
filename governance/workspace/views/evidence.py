"""Evidence downloads: always an attachment, with the type its bytes show and no sniffing."""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from governance.access.selectors import visible_initiatives
from governance.audit.signer_view import evidence_media_type
from governance.value.evidence_checks import sniff_stored
from projects.models import Evidence

OCTET_STREAM = "application/octet-stream"


def _matches(file, sha256: str) -> bool:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest() == sha256


def download(request, pk: int):
    """Anyone who may see the initiative may download its evidence."""
    if not request.user.has_perm("projects.view_evidence"):
        raise PermissionDenied
    evidence = Evidence.objects.filter(pk=pk, initiative__in=visible_initiatives(request.user)).first()
    if evidence is None:
        raise Http404(_("No such evidence."))
    try:
        file = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The evidence file is missing from storage.")) from None
    if not _matches(file, evidence.sha256):
        file.close()
        # What the committee signed is no longer what is stored: serve nothing.
        return HttpResponse(
            _("This file no longer matches the SHA-256 recorded when it was submitted."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    detected = sniff_stored(file, accepted_as=evidence_media_type(evidence))
    content_type = detected.content_type if detected else OCTET_STREAM
    extension = detected.extension if detected else ".bin"
    name = f"{slugify(evidence.title) or 'evidence'}-{evidence.pk}{extension}"
    response = FileResponse(file, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
