"""The KoLeo study script rewrites only the tables between its markers, and refuses a page without them."""

import pytest

from benchmarks.study_koleo import commands, write_sections


def test_write_sections_replaces_between_markers_and_keeps_the_prose(tmp_path):
    doc = tmp_path / "koleo.md"
    doc.write_text(
        "# t\nprose 1\n<!-- study: a -->\nold\ntable\n<!-- end: a -->\nprose 2\n<!-- study: b -->\n<!-- end: b -->\n"
    )
    write_sections(doc, {"a": "| x |\n", "b": "new $1 \\1 text"})  # replacement text is literal, not a regex template
    assert doc.read_text() == (
        "# t\nprose 1\n<!-- study: a -->\n| x |\n<!-- end: a -->\nprose 2\n<!-- study: b -->\nnew $1 \\1 text\n"
        "<!-- end: b -->\n"
    )
    write_sections(doc, {"a": "| y |"})  # idempotent markers: rewriting again replaces, never nests
    assert doc.read_text().count("<!-- study: a -->") == 1 and "| x |" not in doc.read_text()
    with pytest.raises(SystemExit, match="no '<!-- study: c -->'"):
        write_sections(doc, {"c": "z"})


def test_commands_are_the_two_sweeps_on_the_given_images():
    first, second = commands("imgs.zip")
    assert first.startswith("latentatlas sweep configs/cifar10-seed-koleo.yaml --grid loss.koleo.weight=")
    assert "--seeds 3" in first and "--seeds 3" in second and "loss.koleo.scope=micro,effective" in second
    assert all("data.images.path=imgs.zip" in c and "model.norm=group" in c for c in (first, second))
