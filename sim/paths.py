"""Where things are: the shipped data (beside the package in a wheel, at the top of the checkout otherwise) and
every folder of the user's (data, config, cache), the only module that asks platformdirs."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
APP = "mesosim"


def _data_root() -> Path:
    override = os.environ.get("MESOSIM_DATA")
    if override:
        return Path(override)
    bundled = _PACKAGE / "_data"
    if (bundled / "assets").is_dir():
        return bundled
    return _PACKAGE.parent


def assets_dir() -> Path:
    return _data_root() / "assets"


def scenarios_dir() -> Path:
    return _data_root() / "scenarios"


def builtin_scenarios_dir() -> Path:
    return scenarios_dir() / "builtin"


def font_file(bold: bool = False, italic: bool = False) -> Path:
    """The shipped TTF (Noto Sans, assets/fonts) used by the window, its text views and the PDF reports."""
    name = "Bold" if bold else "Italic" if italic else "Regular"
    return assets_dir() / "fonts" / f"NotoSans-{name}.ttf"


# The user's folders (XDG on Linux; the platform's own places elsewhere).

def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def user_config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def user_cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path(APP, appauthor=False)


def user_library_dir() -> Path:
    """The instructor's own exercises, found by id beside the shipped ones (and listed in the picker)."""
    return user_data_dir() / "scenarios"


def installed_schema_file() -> Path:
    """Where `mesosim schema --install` writes the JSON Schema of scenario files: beside the user's library."""
    return user_data_dir() / "scenario.schema.json"


LIBRARY_VARIABLE = "MESOSIM_LIBRARY"
"""The environment variable naming more folders of exercises (separated by os.pathsep)."""

_extra_library: list[Path] = []


def set_library_dirs(folders) -> None:
    """The folders given with --library on the command line, for the rest of this command (the picker included)."""
    _extra_library[:] = [Path(f) for f in folders]


def library_dirs() -> list[tuple[Path, str]]:
    """Every folder of the instructor's library, with where it was named: the user folder (when it exists), each
    folder of MESOSIM_LIBRARY, each --library folder; the same folder once."""
    out: list[tuple[Path, str]] = []
    if user_library_dir().is_dir():
        out.append((user_library_dir(), "the user folder"))
    for part in os.environ.get(LIBRARY_VARIABLE, "").split(os.pathsep):
        if part.strip():
            out.append((Path(part.strip()).expanduser(), LIBRARY_VARIABLE))
    out += [(f.expanduser(), "--library") for f in _extra_library]
    seen: set[Path] = set()
    unique = []
    for folder, origin in out:
        key = folder.resolve() if folder.exists() else folder.absolute()
        if key not in seen:
            seen.add(key)
            unique.append((folder, origin))
    return unique


def attempts_dir() -> Path:
    """Where the trainer keeps attempt records when no --save path is given."""
    return user_data_dir() / "attempts"


def journal_dir() -> Path:
    """The crash journals of attempts in progress."""
    return user_data_dir() / "journal"


def gradebook_file() -> Path:
    """The default gradebook (SQLite)."""
    return user_data_dir() / "gradebook.sqlite"


def config_file() -> Path:
    """The user's settings (e.g. `database:`)."""
    return user_config_dir() / "config.yaml"


def key_file() -> Path:
    """The key that signs attempt records (MESOSIM_KEY_FILE overrides it)."""
    override = os.environ.get("MESOSIM_KEY_FILE")
    return Path(override) if override else user_config_dir() / "signing.key"


def yaml_cache_dir() -> Path:
    """Parsed YAML files, kept by the hash of their text (sim.core.files.yamlio)."""
    return user_cache_dir() / "yaml"
