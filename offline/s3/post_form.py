"""A browser's POST Object form read as S3 reads it: the fields in the order they were sent, up
to the file, which "must be the last field in the form"
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html, `file`;
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html: "make sure that the file
field is the last field in the form"). Whatever follows the file is not part of the upload: a
policy or a signature sent after it is missing, as S3's own message for a missing field says
("If it is specified, please check the order of the fields").

`read` parses the body; `body` writes the form back with only what S3 reads, so the service
behind the emulator stores exactly the upload that was checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    MultipartEncoder,
    NeedData,
)


@dataclass(frozen=True)
class Part:
    name: str
    headers: Headers
    content: bytes
    filename: str | None = None  # set for a file part


@dataclass(frozen=True)
class Form:
    boundary: bytes
    fields: tuple[Part, ...]  # the fields before the file, in the order sent
    file: Part | None  # the first file part; None when the form has none

    def values(self) -> dict[str, str]:
        """The fields by name; a name sent twice holds both values joined by a comma, as S3
        reads it (sigv4-HTTPPOSTConstructPolicy.html, "Conditions")."""
        values: dict[str, str] = {}
        for part in self.fields:
            value = part.content.decode("utf-8", "replace")
            values[part.name] = f"{values[part.name]},{value}" if part.name in values else value
        return values


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    boundary = options.get("boundary")
    return boundary.encode() if kind == "multipart/form-data" and boundary else None


def read(content_type: str, body: bytes) -> Form | None:
    """The form up to and including its file; None when the body is not multipart/form-data
    with a boundary, or is not well-formed multipart."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    decoder = MultipartDecoder(boundary)
    decoder.receive_data(body)
    decoder.receive_data(None)
    parts: list[Part] = []
    current: Field | File | None = None
    chunks: list[bytes] = []
    try:
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData | Epilogue):
                break
            if isinstance(event, Field | File):
                current, chunks = event, []
            elif isinstance(event, Data) and current is not None:
                chunks.append(event.data)
                if not event.more_data:
                    filename = current.filename if isinstance(current, File) else None
                    parts.append(Part(current.name, current.headers, b"".join(chunks), filename))
                    if filename is not None:
                        break  # the file ends the form: S3 reads nothing after it
                    current = None
    except ValueError:
        return None
    files = [part for part in parts if part.filename is not None]
    fields = tuple(part for part in parts if part.filename is None)
    return Form(boundary, fields, files[0] if files else None)


def body(form: Form) -> bytes:
    """The form as S3 reads it, in multipart: its fields, then its file, then the end."""
    encoder = MultipartEncoder(form.boundary)
    out = bytearray()
    for part in (*form.fields, *((form.file,) if form.file else ())):
        if part.filename is not None:
            out += encoder.send_event(File(part.name, part.filename, part.headers))
        else:
            out += encoder.send_event(Field(part.name, part.headers))
        out += encoder.send_event(Data(part.content, more_data=False))
    out += encoder.send_event(Epilogue(b""))
    return bytes(out)
