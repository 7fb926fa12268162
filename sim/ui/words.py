"""What the window says in words a trainee reads: the sources of a finding named as what they are (the clinic
article, the study) rather than by file or number, and messages without the data's citation marks.

The records and the assessors' reports keep the sources exactly as the data give them; this is only how the
window shows them. No pygame here.
"""

from __future__ import annotations

import re

from sim.ui.settings import ui_settings

# "seed 004", "seeds 000-003", "seeds 000, 002, 003", "seed 001, seed 003"
_SEEDS = re.compile(r"\bseeds?\s+(\d{3}(?:\s*(?:-|,|and)\s*(?:seed\s+)?\d{3})*)")
# a study: an author (and an optional second or "et al.") and a year, as the references cite them
_STUDY = re.compile(r"\b([A-Z][A-Za-z'\-]+(?: (?:&|and) [A-Z][A-Za-z'\-]+| et al\.)?) (\d{4})\b")
# a study named without a year, alone in brackets: "(Schmidt & Adelmann)", "(StatPearls)"
_NAMED = re.compile(r"\(([A-Z][A-Za-z'\-]+(?: (?:&|and) [A-Z][A-Za-z'\-]+)?)\)")
_CITED = re.compile(r"\s*\((?:seeds?\s+\d{3}[^)]*|[a-z]+\.(?:md|yaml)[^)]*)\)")


def _seed_numbers(match: str) -> list[str]:
    numbers = [int(n) for n in re.findall(r"\d{3}", match)]
    if "-" in match and len(numbers) == 2:
        numbers = list(range(numbers[0], numbers[1] + 1))
    return [f"seed {n:03d}" for n in numbers]


def source_line(source: str) -> str:
    """A source in words: the clinic articles it cites, the references, then the studies, each once."""
    if not source:
        return ""
    names = ui_settings().sources
    titles = [names.clinic_articles.get(seed, seed) for match in _SEEDS.finditer(source)
              for seed in _seed_numbers(match.group(1))]
    said: list[str] = []
    titles = list(dict.fromkeys(titles))
    if titles:
        quoted = [f'"{t}"' for t in titles]
        said.append(("the clinic article " if len(quoted) == 1 else "the clinic articles ")
                    + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]))
    said += list(dict.fromkeys(words for key, words in names.references.items() if key in source))
    studies = [f"{a} {y}" for a, y in _STUDY.findall(source)]
    studies += [name for name in _NAMED.findall(source) if not any(s.startswith(name) for s in studies)]
    if studies:
        said.append("studies: " + ", ".join(dict.fromkeys(studies)))
    if source.startswith("scenario "):
        said.append("this exercise")
    return "; ".join(said) if said else source


def area_name(atlas, name: str) -> str:
    """An area as a scenario names it (a region id, a group, a tag: "lower-eyelid") in the atlas's words
    ("Lower eyelid"): a region's own name, a group's by its first region without the side."""
    by_id = {r.id: r.name for r in atlas.regions}
    if name in by_id:
        return by_id[name]
    members = atlas.groups.get(name) or ()
    if members and members[0] in by_id:
        return by_id[members[0]].removesuffix(" (left)").removesuffix(" (right)")
    return name.replace("-", " ")


def plain(message: str, atlas=None) -> str:
    """A message without the citation marks the data put in it ("(seed 000)", "(anatomy.md B)"): the source line
    beside it says where it comes from; with the atlas, the areas it names by id ("nasolabial-fold-right") by
    their names."""
    message = _CITED.sub("", message)
    if atlas is not None and "-" in message:
        ids = sorted((n for n in atlas.area_names() if "-" in n), key=len, reverse=True)
        for name in ids:
            if name in message:
                message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", area_name(atlas, name).lower(), message)
    return message
