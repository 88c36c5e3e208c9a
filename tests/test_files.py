import json

import pytest

from search.files import Problem, decode, find_files, read_paths


def _read(paths, columns=None):
    _, items = read_paths(paths, columns)
    articles, problems = [], []
    for item in items:
        if item.article:
            articles.append(item.article)
        if item.problem:
            problems.append(item.problem)
    return articles, problems


def test_decode():
    assert decode("Raqqa \u2013 caf\u00e9".encode()) == ("Raqqa \u2013 caf\u00e9", None)
    assert decode(b"\xef\xbb\xbfbom") == ("bom", None)
    assert decode("utf16 \u00e9".encode("utf-16")) == ("utf16 \u00e9", None)
    text, warning = decode("caf\u00e9 \u201cquoted\u201d".encode("cp1252"))
    assert text == "caf\u00e9 \u201cquoted\u201d"
    assert "decoded as Windows-1252" in warning
    text, warning = decode(b"\x95\x81\xe9")  # 0x81 is undefined in Windows-1252
    assert text == "\u2022\x81\u00e9" and "Windows-1252" in warning
    assert decode(b"\x89PNG\r\n\x1a\n\x00\x00")[0] is None


def test_folders_recursive_sorted_hidden_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ["b/2.txt", "a.txt", ".x.txt", ".hidden/y.txt"]:
        (tmp_path / name).write_text("t")
    files, problems = find_files([tmp_path, tmp_path / "missing"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.txt", "b/2.txt"]
    assert problems == [Problem(str(tmp_path / "missing"), "no such file or folder")]


def test_mixed_folder_reports_each_bad_file_and_reads_the_rest(tmp_path):
    (tmp_path / "good.txt").write_text("Good title\nAbout Raqqa.")
    (tmp_path / "latin1.txt").write_bytes(
        "Caf\u00e9 title\nDeir ez-Zor \u00e9t\u00e9.".encode("latin-1")
    )
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 10)
    (tmp_path / "empty.txt").write_text("  \n")
    lines = [
        json.dumps({"id": "j1", "title": "One", "body": "b"}),
        "{broken",
        "",
        json.dumps({"id": "j2", "title": "Two", "body": "b"}),
        "[1, 2]",
    ]
    (tmp_path / "export.jsonl").write_text("\n".join(lines))
    articles, problems = _read([tmp_path])
    assert sorted(a.id for a in articles) == ["good", "j1", "j2", "latin1"]
    latin = next(a for a in articles if a.id == "latin1")
    assert latin.title == "Caf\u00e9 title"
    by_origin = {p.origin: p for p in problems}
    assert by_origin[str(tmp_path / "binary.txt")].skipped
    assert by_origin[str(tmp_path / "empty.txt")].message == "empty file"
    assert by_origin[f"{tmp_path / 'export.jsonl'}:2"].message.startswith("invalid JSON")
    assert by_origin[f"{tmp_path / 'export.jsonl'}:5"].message == "expected a JSON object, got list"
    warning = by_origin[str(tmp_path / "latin1.txt")]
    assert not warning.skipped and "Windows-1252" in warning.message


def test_json_object_array_and_wrapped_list(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps({"id": "o", "title": "T", "body": "B"}))
    (tmp_path / "many.json").write_text(
        json.dumps([{"id": "m1", "title": "T"}, {"id": "m2", "body": "B"}, 5])
    )
    (tmp_path / "wrapped.json").write_text(json.dumps({"articles": [{"id": "w", "title": "T"}]}))
    (tmp_path / "bad.json").write_text('{"id": "x",\n "title": }')
    articles, problems = _read([tmp_path])
    assert sorted(a.id for a in articles) == ["m1", "m2", "o", "w"]
    messages = sorted(str(p) for p in problems)
    assert any(m.startswith(f"{tmp_path / 'bad.json'}:2: invalid JSON") for m in messages)
    assert f"{tmp_path / 'many.json'}[2]: expected a JSON object, got int" in messages


def test_deeply_nested_json_is_reported(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    articles, problems = _read([tmp_path])
    assert not articles and "nested too deeply" in problems[0].message


def test_ids_without_id_field_are_stable(tmp_path):
    record = {"title": "No id", "body": "Same text"}
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    first = _read([tmp_path])[0][0].id
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"title": "Other", "body": "x"}) + "\n" + json.dumps(record) + "\n"
    )
    assert first in [a.id for a in _read([tmp_path])[0]]
    assert first.startswith("a-")


def test_csv_columns_guessed_mapped_and_bad_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        'headline,text,when\n"A","Body A",2017-01-02\n"B","Body, B"\n"C","Body C",2017-01-03\n'
    )
    articles, problems = _read([path])
    assert [a.title for a in articles] == ["A", "C"]
    assert str(problems[0]) == f"{path}:3: expected 3 fields, found 2"
    mapped, _ = _read([path], {"date": "when"})
    assert str(mapped[0].date) == "2017-01-02"
    _, problems = _read([path], {"body": "nope"})
    assert "no column named 'nope'" in problems[0].message


def test_csv_without_recognisable_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,2\n")
    articles, problems = _read([path])
    assert not articles and "--columns" in problems[0].message


def test_fakes_csv_reads_every_article(fakes_csv):
    articles, problems = _read([fakes_csv])
    assert len(articles) == 804
    assert not [p for p in problems if p.skipped]
    assert all(a.date is not None and 2011 <= a.date.year <= 2018 for a in articles)
    assert {a.source for a in articles} >= {"SANA", "Reuters", "Al-Manar", "Ahram Online"}
    # 9 ids repeat: the same article labelled by several annotators
    assert len({a.id for a in articles}) == 792
    warnings = [p for p in problems if not p.skipped]
    assert len(warnings) == 1 and "decoded as Windows-1252" in warnings[0].message


@pytest.mark.parametrize("name", ["with space \u00e9.txt", "\u062d\u0644\u0628.txt"])
def test_odd_file_names(tmp_path, name):
    (tmp_path / name).write_text("Title\nBody")
    articles, problems = _read([tmp_path])
    assert [a.title for a in articles] == ["Title"] and not problems


def test_json_that_python_refuses_is_reported(tmp_path):
    (tmp_path / "big.json").write_text('{"id": ' + "9" * 5000 + "}")
    (tmp_path / "big.jsonl").write_text('{"id": ' + "9" * 5000 + "}\n")
    articles, problems = _read([tmp_path])
    assert not articles
    assert [p.message.startswith("invalid JSON") for p in problems] == [True, True]


def test_columns_apply_to_json_too(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"hed": "Head", "txt": "Text"}) + "\n")
    (tmp_path / "b.json").write_text(json.dumps([{"hed": "Head", "txt": "Text"}]))
    articles, _ = _read([tmp_path], {"title": "hed", "body": "txt"})
    assert [(a.title, a.body) for a in articles] == [("Head", "Text"), ("Head", "Text")]


def test_one_article_size_limit_spares_multi_article_files(tmp_path, monkeypatch):
    from search import files

    monkeypatch.setattr(files, "MAX_TEXT_BYTES", 100)
    (tmp_path / "long.txt").write_text("Title\n" + "word " * 50)
    (tmp_path / "many.json").write_text(json.dumps([{"title": "T" * 80, "body": "B" * 80}]))
    articles, problems = _read([tmp_path])
    assert [a.title for a in articles] == ["T" * 80]
    assert [str(p) for p in problems] == [f"{tmp_path / 'long.txt'}: larger than 100 bytes"]


def test_json_lines_are_read_a_line_at_a_time_and_each_line_decoded_on_its_own(
    tmp_path, monkeypatch
):
    from pathlib import Path

    def whole(self):
        raise AssertionError(f"{self} read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)  # an export may not fit in memory
    path = tmp_path / "export.jsonl"
    good = json.dumps({"id": "a", "title": "Idlib \u2014 \u062d\u0644\u0628", "body": "x"})
    path.write_bytes(
        b"\xef\xbb\xbf"  # a BOM
        + good.encode("utf-8")
        + b'\r\n{"id": "b", "title": "caf\xe9 \x93news\x94", "body": "y"}\n\n'
        + b'{"id": "c", "title": "t", "body": "z"}'  # no newline at the end
    )
    articles, problems = _read([path])
    # the UTF-8 line keeps its letters; only the other is read as Windows-1252
    assert [a.title for a in articles] == [
        "Idlib \u2014 \u062d\u0644\u0628",
        'caf\u00e9 "news"',
        "t",
    ]
    [warning] = problems
    assert not warning.skipped and "line 2" in warning.message and "Windows-1252" in warning.message
    (tmp_path / "export.jsonl").write_bytes(b"\n \n")
    assert _read([path])[1][0].message == "empty file"
