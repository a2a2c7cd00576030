"""Image files as a person sends them: the request body itself (`curl --data-binary
@digit.png`), or the `file` parts of a multipart form (`curl -F file=@digit.png`).

Each file is decoded by the same path as `predict` (runtime.decode.decode_bytes), with the
same limits and one-line messages. Runs in a worker thread, never on the event loop.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mnist_edge.core.text import printable
from mnist_edge.runtime.decode import decode_bytes
from mnist_edge.runtime.records import Item

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FORM = "multipart/form-data"
FILE_FIELD = "file"
BODY_NAME = "body"  # the record's source when the image is the whole body
MAX_FILES = 1000  # parts of one form


class UploadError(ValueError):
    """A form that cannot be read (a 400)."""


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)


def decode_uploads(body: bytes, content_type: str) -> list[Item]:
    """The decoded images of a request: one per `file` part of a form, else the body."""
    if content_type.split(";")[0].strip().lower() != FORM:
        return [decode_bytes(BODY_NAME, body)]
    return [decode_bytes(name, data) for name, data in form_files(body, content_type)]


def form_files(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every `file` part of a multipart/form-data body, in order."""
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise UploadError(f"{FORM} without a boundary")
    parts: list[_Part] = []
    ended = []
    header: list[bytes] = [b"", b""]
    callbacks: MultipartCallbacks = {
        "on_part_begin": lambda: _begin_part(parts),
        "on_part_data": lambda data, start, end: parts[-1].data.extend(data[start:end]),
        "on_header_field": lambda data, start, end: _extend(header, 0, data[start:end]),
        "on_header_value": lambda data, start, end: _extend(header, 1, data[start:end]),
        "on_header_end": lambda: _end_header(parts[-1], header),
        "on_end": lambda: ended.append(True),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise UploadError(f"malformed form: {printable(str(error))}") from None
    if not ended:
        raise UploadError("the form ends before its closing boundary (truncated upload?)")
    return _files(parts)


def _begin_part(parts: list[_Part]) -> None:
    if len(parts) >= MAX_FILES:
        raise UploadError(f"more than {MAX_FILES:,} parts in one form")
    parts.append(_Part())


def _extend(header: list[bytes], index: int, chunk: bytes) -> None:
    header[index] += chunk


def _end_header(part: _Part, header: list[bytes]) -> None:
    part.headers.append((header[0].strip().lower(), header[1].strip()))
    header[0] = header[1] = b""


def _files(parts: list[_Part]) -> list[tuple[str, bytes]]:
    from python_multipart.multipart import parse_options_header

    files = []
    for index, part in enumerate(parts):
        disposition = dict(part.headers).get(b"content-disposition", b"")
        options = parse_options_header(disposition)[1]
        if options.get(b"name", b"").decode("utf-8", "replace") != FILE_FIELD:
            continue
        filename = options.get(b"filename")
        name = filename.decode("utf-8", "replace") if filename else f"{FILE_FIELD}#{index}"
        files.append((printable(name), bytes(part.data)))
    if not files:
        raise UploadError(f"the form has no '{FILE_FIELD}' part: send images as -F file=@NAME")
    return files
