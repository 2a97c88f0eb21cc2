"""What an evidence file must be before ValueGate keeps it.

The committee opens these files, so the server decides what they are from their bytes, never from
the name or the Content-Type the sender chose: PDF, PNG, JPEG, Excel (XLSX), Word (DOCX), CSV or
plain UTF-8 text. The name must agree with the content and carry nothing that could act on a path
or mislead a reader (separators, '..', NUL, control or bidirectional formatting characters).
"""

from __future__ import annotations

import codecs
import functools
import html
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList, MultiValueDict
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from governance.errors import InvalidInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HEAD_BYTES = 2048
FORM_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and the multipart framing
MAX_NAME_LENGTH = 200

# Characters that reorder how a name is displayed: "invoice\u202efdp.exe" reads "invoiceexe.pdf".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class EvidenceType:
    label: str | Promise  # a lazy translation, for the refusals
    content_type: str
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        return self.extensions[0]


PDF = EvidenceType(gettext_lazy("PDF document"), "application/pdf", (".pdf",))
PNG = EvidenceType(gettext_lazy("PNG image"), "image/png", (".png",))
JPEG = EvidenceType(gettext_lazy("JPEG image"), "image/jpeg", (".jpg", ".jpeg"))
XLSX = EvidenceType(
    gettext_lazy("Excel workbook"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
DOCX = EvidenceType(
    gettext_lazy("Word document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
CSV = EvidenceType(gettext_lazy("CSV table"), "text/csv; charset=utf-8", (".csv",))
TEXT = EvidenceType(gettext_lazy("plain text"), "text/plain; charset=utf-8", (".txt", ".text", ".md"))
ACCEPTED = (PDF, PNG, JPEG, XLSX, DOCX, CSV, TEXT)
ACCEPTED_EXTENSIONS = tuple(ext for kind in ACCEPTED for ext in kind.extensions)
ACCEPTED_LABELS = gettext_lazy("PDF, PNG, JPEG, XLSX, DOCX, CSV or UTF-8 text")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
ZIP_SIGNATURE = b"PK\x03\x04"


def max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{round(size / 1024, 1):g} KB"
    return f"{round(size / (1024 * 1024), 1):g} MB"


def check_file_name(name: str | None) -> str:
    """The name's extension (lower case), or InvalidInput saying what is wrong with the name."""
    if name is None or not name.strip():
        raise InvalidInput(_("The file needs a name."))
    if "\x00" in name:
        raise InvalidInput(_("The file name contains a NUL character."))
    if "/" in name or "\\" in name:
        raise InvalidInput(_("The file name contains a path separator; send the file's own name only."))
    if ".." in name:
        raise InvalidInput(_("The file name contains '..'."))
    for char in name:
        if char in BIDI_CONTROLS:
            raise InvalidInput(
                _(
                    # Translators: %(code)s is a Unicode code point, e.g. U+202E.
                    "The file name contains a bidirectional formatting character (%(code)s), "
                    "which can disguise its real extension."
                )
                % {"code": f"U+{ord(char):04X}"}
            )
        if unicodedata.category(char) in UNSAFE_CATEGORIES:
            raise InvalidInput(
                # Translators: %(code)s is a Unicode code point, e.g. U+0007.
                _("The file name contains a control character (%(code)s).") % {"code": f"U+{ord(char):04X}"}
            )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            _("The file name is longer than %(limit)s characters.") % {"limit": MAX_NAME_LENGTH}
        )
    if name != name.strip() or name.startswith("."):
        raise InvalidInput(_("The file name may not start with a dot or a space, nor end with a space."))
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        raise InvalidInput(
            # Translators: %(extensions)s lists file extensions, e.g. ".pdf, .png".
            _("The file name needs an extension: %(extensions)s.")
            % {"extensions": ", ".join(ACCEPTED_EXTENSIONS)}
        )
    extension = f".{extension.lower()}"
    if extension not in ACCEPTED_EXTENSIONS:
        raise InvalidInput(
            # Translators: %(extension)s is the file's extension, e.g. ".exe"; %(types)s names the
            # accepted types ("PDF, PNG, … or UTF-8 text") and %(extensions)s lists their extensions.
            _("%(extension)s files are not accepted as evidence; send %(types)s (%(extensions)s).")
            % {
                "extension": extension,
                "types": ACCEPTED_LABELS,
                "extensions": ", ".join(ACCEPTED_EXTENSIONS),
            }
        )
    return extension


def _size_of(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    return size


def _office_type(file) -> EvidenceType:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()  # the central directory only: nothing is decompressed
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput(_("The file starts like a ZIP archive but is damaged.")) from None
    finally:
        file.seek(0)
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("word/") for n in names):
            return DOCX
    raise InvalidInput(_("The file is a ZIP archive but neither an Excel workbook nor a Word document."))


def _text_type(file) -> None:
    """Refuse anything but UTF-8 text without NUL that does not open like markup."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    opening = ""
    file.seek(0)
    try:
        for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b""):
            text = decoder.decode(chunk)
            if "\x00" in text:
                raise InvalidInput(_("The file contains NUL bytes: it is not text."))
            if len(opening) < 64:
                opening += text[:64]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidInput(
            # Translators: %(types)s names the accepted types ("PDF, PNG, … or UTF-8 text").
            _("The content is not a file type ValueGate accepts (%(types)s).") % {"types": ACCEPTED_LABELS}
        ) from None
    finally:
        file.seek(0)
    if opening.lstrip("\ufeff \t\r\n\f\v").startswith("<"):
        raise InvalidInput(
            _("The content looks like HTML, XML or SVG markup, which is not accepted as evidence.")
        )


def detect_type(file, *, extension: str | None = None) -> EvidenceType:
    """The type the file's bytes show, or InvalidInput. Text is CSV when named .csv."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if isinstance(head, str):  # a text-mode file: refuse rather than guess its encoding
        raise InvalidInput(_("The evidence file must be read as bytes."))
    if head.startswith(PDF_SIGNATURE):
        return PDF
    if head.startswith(PNG_SIGNATURE):
        return PNG
    if head.startswith(JPEG_SIGNATURE):
        return JPEG
    if head.startswith(ZIP_SIGNATURE):
        return _office_type(file)
    _text_type(file)
    return CSV if extension == ".csv" else TEXT


def check_evidence_file(file, *, name: str | None) -> EvidenceType:
    """Check an uploaded evidence file's name, size and content; return the type its bytes show.

    Raises InvalidInput with the reason; reads the file but does not keep anything.
    """
    extension = check_file_name(name)
    size = _size_of(file)
    if size == 0:
        raise InvalidInput(_("The evidence file is empty."))
    limit = max_bytes()
    if size > limit:
        raise InvalidInput(
            # Translators: %(size)s and %(limit)s are file sizes, e.g. "25 MB".
            _("The file is %(size)s; evidence files are limited to %(limit)s.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)}
        )
    detected = detect_type(file, extension=extension)
    if extension not in detected.extensions:
        raise InvalidInput(
            _(
                # Translators: %(extension)s is the file's extension, e.g. ".pdf"; %(type)s what its
                # content is, e.g. "PNG image".
                "The file is named %(extension)s but its content is a %(type)s; the name and the content must agree."
            )
            % {"extension": extension, "type": detected.label}
        )
    return detected


def sniff_stored(file, *, accepted_as: str | None = None) -> EvidenceType | None:
    """The type of a stored evidence file, or None when its bytes are no longer an accepted type.

    `accepted_as` is the media type recorded when the file was accepted: the bytes alone cannot
    tell a CSV table from plain text, the name it was accepted under could.
    """
    recorded = next((kind for kind in ACCEPTED if kind.content_type == accepted_as), None)
    try:
        return detect_type(file, extension=recorded.extension if recorded else None)
    except InvalidInput:
        return None


# Browsers send a file's own name; Django's multipart parser then strips directories and
# non-printable characters silently. Both upload paths (the admin's page and the API) parse with
# the parser below, which keeps the name as sent, so that check_file_name refuses a forged name
# with its reason instead of it being quietly rewritten and accepted.


class NameKeepingParser(MultiPartParser):
    """Django's multipart parser, with each uploaded file's `sent_name`: its name as sent."""

    _sent_name: str | None = None
    # Set by MultiPartParser itself, which its type stubs do not declare.
    _files: MultiValueDict
    _encoding: str

    def sanitize_file_name(self, file_name):
        self._sent_name = html.unescape(file_name)
        return super().sanitize_file_name(file_name)

    def handle_file_complete(self, old_field_name, counters):
        super().handle_file_complete(old_field_name, counters)
        files = self._files.getlist(force_str(old_field_name, self._encoding, errors="replace"))
        if files:
            files[-1].sent_name = self._sent_name


def _parse_keeping_names(request, META, post_data):  # noqa: N803 - Django's own parameter name
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = NameKeepingParser(META, post_data, request.upload_handlers, request.encoding)
    return parser.parse()


def keeping_sent_file_names(view):
    """Wrap a view so that its uploaded files carry `sent_name`, the name exactly as sent.

    Must wrap the view outside of its CSRF check (which parses the body): the view this returns
    is marked csrf_exempt for the middleware, and the wrapped view must apply csrf_protect itself,
    as admin_site.admin_view does.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > max_bytes() + FORM_OVERHEAD_BYTES:
            # Refused before the body is read: an oversized upload never reaches the disk.
            return HttpResponse(
                # Translators: %(limit)s is a file size, e.g. "20 MB".
                _("The upload is larger than the %(limit)s limit for evidence files.")
                % {"limit": _megabytes(max_bytes())},
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        request.parse_file_upload = functools.partial(_parse_keeping_names, request)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


def sent_name(upload) -> str | None:
    """The name an uploaded file was sent with (see NameKeepingParser), else its own name."""
    sent = getattr(upload, "sent_name", None)
    return sent if sent is not None else getattr(upload, "name", None)
