"""Change a field of a YAML file the way a person would: a round trip through ruamel.yaml that keeps the file's
comments, order, quoting and flow style, written atomically (a temporary file beside it, then a rename)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any


def set_top_level(path: Path | str, values: dict[str, Any]) -> None:
    """Set top-level keys of the mapping in `path` (added at the end when missing), keeping everything else."""
    from ruamel.yaml import YAML

    path = Path(path)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    text = path.read_text(encoding="utf-8")
    data = yaml.load(text)
    for key, value in values.items():
        data[key] = value
    buf = io.StringIO()
    yaml.dump(data, buf)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
