"""Front matter for content files: a ``---`` block of ``key: value`` lines on top of Markdown.

Kept deliberately tiny (no YAML dependency): values are strings; ``order`` and other
integers are converted by the loader that knows the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FM = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


class ContentError(ValueError):
    """A content file is malformed; the message names the file and what is wrong."""


@dataclass
class Document:
    meta: dict[str, str]
    body: str
    path: str = ""
    sections: dict[str, str] = field(default_factory=dict)


def parse(text: str, path: str = "<string>") -> Document:
    """Split front matter from the Markdown body; every line of the block must be key: value."""
    m = _FM.match(text)
    if not m:
        raise ContentError(f"{path}: missing front matter (a '---' block at the top)")
    meta: dict[str, str] = {}
    for n, line in enumerate(m.group(1).splitlines(), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if ":" not in line:
            raise ContentError(f"{path}:{n}: expected 'key: value', got {line!r}")
        key, value = line.split(":", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]  # quoted to protect a colon or a leading symbol
        meta[key.strip()] = value
    body = text[m.end():]
    return Document(meta=meta, body=body, path=path, sections=split_sections(body))


def split_sections(body: str) -> dict[str, str]:
    """``## Heading`` sections of a body, keyed by lower-cased heading text."""
    parts = re.split(r"^## +(.+?)\s*$", body, flags=re.MULTILINE)
    out: dict[str, str] = {}
    for i in range(1, len(parts), 2):
        out[parts[i].strip().lower()] = parts[i + 1].strip()
    return out


def require(doc: Document, *keys: str) -> None:
    missing = [k for k in keys if not doc.meta.get(k)]
    if missing:
        raise ContentError(f"{doc.path}: front matter lacks {', '.join(missing)}")
