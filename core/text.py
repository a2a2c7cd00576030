"""Text the tool writes about inputs: file names and messages made safe to print.

A file name can hold bytes that are not UTF-8 (Python keeps them as surrogates, which
cannot be encoded back to UTF-8 text), line breaks (which split CSV rows and jsonl lines)
and terminal escape sequences. Every name and message the tool prints goes through here.
"""

import os
import unicodedata

PROGRAM = "mnist-edge"  # how every line the tool writes on stderr begins


def printable(text: str) -> str:
    """`text` with undecodable bytes shown as \\xff and control characters as escapes."""
    if text.isprintable():
        return text
    if any("\udc80" <= char <= "\udcff" for char in text):
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return "".join(char if _shown(char) else _escaped(char) for char in text)


def one_line(message: object) -> str:
    """A message on one printable line (library errors sometimes span several)."""
    return printable(" ".join(str(message).split()))


def _shown(char: str) -> bool:
    return char.isprintable() or char == " "


def _escaped(char: str) -> str:
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in escapes:
        return escapes[char]
    code = ord(char)
    if unicodedata.category(char) == "Cs" or code > 0xFFFF:
        return f"\\U{code:08x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
