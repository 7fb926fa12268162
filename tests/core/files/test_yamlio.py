"""Safe YAML loading: positions, and refusal of what is not plain data."""

import pytest

from sim.errors import InputError
from sim.core.files.yamlio import MAX_YAML_BYTES, load_yaml_file, load_yaml_text


def messages(text, name="f.yaml"):
    with pytest.raises(InputError) as info:
        load_yaml_text(text, name)
    return [str(p) for p in info.value.problems]


def test_positions_of_keys_and_values():
    doc = load_yaml_text("a: 1\nb:\n  - x: 2\n    y: [1, 2]\n", "f.yaml")
    assert doc.data == {"a": 1, "b": [{"x": 2, "y": [1, 2]}]}
    assert doc.where(("a",)) == (1, 4)
    assert doc.where(("b", 0, "y")) == (4, 8)
    assert doc.where(("b", 0, "y"), key=True) == (4, 5)
    assert doc.where(("b", 0, "missing")) == (3, 5)


def test_alias_is_refused_with_its_position():
    assert messages("a: &x [1]\nb: *x\n") == ["f.yaml:2:4: YAML aliases (*name) are not allowed; write the value out"]


def test_billion_laughs_is_refused_before_expansion():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    out = messages("\n".join(lines) + "\n")
    assert out == ["f.yaml:2:10: YAML aliases (*name) are not allowed; write the value out"]


def test_object_tags_are_refused():
    out = messages('a: !!python/object/apply:os.system ["true"]\n')
    assert out == ["f.yaml:1:4: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed; "
                   "only plain data is accepted"]
    assert "is not allowed" in messages("a: !custom 3\n")[0]


SYNTAX = {
    "tab": ("id: s\ntitle: T\n\tobjective: O\n",
            "f.yaml:3:1: YAML syntax: a tab character: YAML indents and separates with spaces only; replace the tab "
            "with spaces (and set the editor to insert spaces for the Tab key)"),
    "colon in a value": ("id: s\ntitle: Forehead: nappage\n",
                         'f.yaml:2:16: YAML syntax: a colon followed by a space inside a value; put the value in '
                         'quotes: title: "Forehead: nappage"'),
    "colon in a quoted-looking value": ('title: Lines: "deep" ones\n',
                                        "f.yaml:1:13: YAML syntax: a colon followed by a space inside a value; put "
                                        "the value in quotes: title: 'Lines: \"deep\" ones'"),
    "indented too deep": ("id: s\ntitle: T\n  objective: O\nmap: face\n",
                          'f.yaml:3:3: YAML syntax: "objective:" is indented deeper than "title:" on line 2, which '
                          'already has a value; start it in column 1, as "title:" is (or, if it belongs to the value '
                          'above, put that value in quotes)'),
    "indented off the column": ("targets:\n  - region: forehead\n   name: x\n",
                                'f.yaml:3:4: YAML syntax: the indentation of this line does not match the lines above '
                                '(this line starts in column 4; "region:" on line 2 starts in column 5): the keys of '
                                'one mapping start in the same column, and so do the items ("- ") of one list; indent '
                                'with spaces'),
    "list item out of line": ("targets:\n- region: forehead\n  - name: x\n",
                              'f.yaml:3:3: YAML syntax: a list item ("- ") where a key was expected: the items of one '
                              'list start in one column, under their key (this one starts in column 3; the item on '
                              'line 2 starts in column 1)'),
    "unclosed bracket": ("a: [1, 2\nb: 3\n",
                         'f.yaml:1:4: YAML syntax: the "[" here is never closed (reached ":" at line 2, column 2); '
                         'end the list with "]", or separate its items with ", "'),
    "unclosed bracket before the next key": ("devices: [hand\nmode: practice\n",
                                             'f.yaml:1:10: YAML syntax: the "[" here is never closed (reached ":" at '
                                             'line 2, column 5); end the list with "]", or separate its items with '
                                             '", "'),
    "unclosed bracket at the end": ("devices: [hand, gun\n",
                                    'f.yaml:1:10: YAML syntax: the "[" here is never closed (reached the end of the '
                                    'file); end the list with "]", or separate its items with ", "'),
    "unclosed brace": ("product: {name: x, form: liquid\nmap: face\n",
                       'f.yaml:1:10: YAML syntax: the "{" here is never closed (reached ":" at line 2, column 4); end '
                       'the mapping with "}", or separate its items with ", "'),
    "unclosed quote": ('id: s\ntitle: "Forehead\nmap: face\n',
                       'f.yaml:2:8: YAML syntax: the quote (") here is never closed; end the text with a closing "'),
    "no colon": ("id: s\ntitle T\nmap: face\n",
                 'f.yaml:2:1: YAML syntax: this line is not "key: value" nor a list item ("- value"); add ": " after '
                 'its key, or, if it continues the text above, indent it under that value or put the whole value in '
                 'quotes'),
    "no space after the colon": ("id: s\ntitle:T\nmap: face\n",
                                 'f.yaml:2:1: YAML syntax: a colon needs a space after it: "title: T"'),
    "list on the key's line": ("techniques: - micro-papule\n",
                               'f.yaml:1:13: YAML syntax: a list item ("- ") cannot follow a key on its line; '
                               'write the list in brackets, techniques: [micro-papule], or put each item on a line '
                               'of its own below, indented'),
    "a value starting with @": ("title: @home\n",
                                'f.yaml:1:8: YAML syntax: a value cannot start with "@"; put the value in quotes: '
                                'title: "@home"'),
    "text after a quote": ('title: "Forehead" lines\n',
                           "f.yaml:1:19: YAML syntax: text after the closing quote; put the whole value inside the "
                           "quotes"),
    "bad escape": ('title: "C:\\qfiles"\n',
                   'f.yaml:1:12: YAML syntax: "\\q" is not an escape inside double quotes; write "\\\\q" for a '
                   "backslash, or use single quotes ('...'), in which a backslash is plain"),
    "duplicate key": ("id: s\nmap: face\nmap: scalp\n",
                      'f.yaml:3:1: YAML syntax: "map" is given twice in this mapping (first on line 2); keep one'),
}


@pytest.mark.parametrize("case", SYNTAX, ids=list(SYNTAX))
def test_syntax_errors_say_what_is_wrong_and_the_fix(case):
    text, expected = SYNTAX[case]
    assert messages(text) == [expected]


def test_empty_file():
    assert messages("") == ["f.yaml:1:1: the file is empty"]
    assert messages("# only a comment\n") == ["f.yaml:1:1: the file is empty"]


def test_deep_nesting_is_refused():
    (msg,) = messages("a: " + "[" * 100 + "]" * 100 + "\n")
    assert "nested deeper than 64 levels" in msg


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml_file(path).data == {"a": 1}


def test_binary_file(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\n\xff\xfe\x00garbage")
    with pytest.raises(InputError) as info:
        load_yaml_file(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:2:1: is not UTF-8 text (a binary file?)"]


def test_size_limit_is_stated(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: '" + "x" * MAX_YAML_BYTES + "'\n")
    with pytest.raises(InputError) as info:
        load_yaml_file(path)
    assert f"the limit is {MAX_YAML_BYTES} bytes" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        load_yaml_file(tmp_path / "nope.yaml")
    assert str(info.value).endswith("nope.yaml:0:0: no such file")


def test_a_file_parsed_once_comes_from_the_cache_as_it_was(tmp_path, monkeypatch):
    import sim.core.files.yamlio as yamlio
    from sim.core.records.signing import load_key

    load_key()  # the cache's entries are authenticated by a key derived from the signing key

    path = tmp_path / "c.yaml"
    path.write_text("a: 1\nb:\n  - {x: 2, 3: y}\n  - [1.5, null, true, '4']\n")
    first = load_yaml_file(path)
    assert yamlio.parse_cache.entry(path.read_text()).exists()

    def no_parser(text, name="<text>"):
        raise AssertionError("parsed again")

    monkeypatch.setattr(yamlio, "load_yaml_text", no_parser)
    again = load_yaml_file(path)
    assert (again.file, again.data, again.values, again.keys) == (first.file, first.data, first.values, first.keys)
    assert again.data["b"][0] == {"x": 2, 3: "y"}  # an int key stays an int
    moved = tmp_path / "moved.yaml"
    moved.write_text(path.read_text())
    assert load_yaml_file(moved).problem(("b", 1, 2), "no").file == str(moved)  # problems name the file read
    path.write_text("a: 2\n")
    with pytest.raises(AssertionError, match="parsed again"):
        load_yaml_file(path)  # another text is parsed


def test_a_damaged_cache_entry_is_parsed_again(tmp_path):
    import sim.core.files.yamlio as yamlio
    from sim.core.records.signing import load_key

    load_key()

    path = tmp_path / "d.yaml"
    path.write_text("a: [1, 2]\n")
    load_yaml_file(path)
    entry = yamlio.parse_cache.entry(path.read_text())
    for damage in (b"", b"\x00garbage", entry.read_bytes()[:10]):
        entry.write_bytes(damage)
        doc = load_yaml_file(path)
        assert doc.data == {"a": [1, 2]} and doc.where(("a", 1)) == (1, 8)


def test_errors_are_never_cached(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("a: &x [1]\nb: *x\n")
    for _ in range(2):
        with pytest.raises(InputError, match="aliases"):
            load_yaml_file(path)


def test_the_authoring_guide_quotes_these_messages():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[3] / "docs" / "scenario-authoring.md").read_text()
    table = guide[guide.index("| mistake | message"):].split("\n\n")[0].splitlines()[2:]
    quoted = [row.split(" | ")[1].removesuffix(" |").removesuffix(" ...") for row in table]
    assert len(quoted) >= 8
    said = [expected.split("YAML syntax: ", 1)[1] for _text, expected in SYNTAX.values()]
    assert [q for q in quoted if not any(s.startswith(q) for s in said)] == []
