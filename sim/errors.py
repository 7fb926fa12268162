"""Input problems reported to users as `FILE:LINE:COL: field.path: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file a user wrote. Line and column are 1-based; 0 means unknown."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{one_line(self.file)}:{self.line}:{self.col}"
        message, path = one_line(" ".join(self.message.split(" "))), one_line(self.path)
        return f"{where}: {path}: {message}" if path else f"{where}: {message}"


def one_line(text: str) -> str:
    """Line breaks become spaces; other characters that are not printable are shown escaped (\\x0b)."""
    text = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class InputError(Exception):
    """Bad input: carries every problem found, so that all of them are reported at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.path, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, file: str, message: str, line: int = 0, col: int = 0, path: str = "") -> "InputError":
        return cls([Problem(str(file), line, col, path, message)])


class UnavailableError(Exception):
    """A store that cannot be used just now (the gradebook's database is down, refuses or stays busy): not bad input,
    so the command line exits with status 1, not 2. Carries its problems in the same form as InputError."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RefusedError(Exception):
    """A record refused for what it is, not for its form: it does not verify (an unverified record posted to a
    record store, re-scored into a new signed record). Exit status 1, like `mesosim verify` of such a record."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
