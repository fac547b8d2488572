"""`watchlist export` and `import` round-trip every ID and label, in both formats;
import errors name the line. The real CLI as a subprocess, and the parser under
Hypothesis."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from tui.domain.ids import MAX_DIFF_ID
from tui.store.watchlist.text import export_json_lines, export_plain, parse_import

LABELS = {4101: "eu build", 4102: "", 4103: "us # hotfix 2", 4104: "naïve ✓"}


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "watchlist", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env(isolated_dirs: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    return dict(env, **isolated_dirs, PYTHONUTF8="1")


def _watch_labelled(env: dict[str, str], asid: str) -> None:
    for diffid, label in LABELS.items():
        extra = ["--label", label] if label else []
        assert _cli(env, "add", "--asid", asid, str(diffid), *extra).returncode == 0


def _listed(env: dict[str, str], asid: str) -> dict[int, str]:
    out = _cli(env, "list", "--asid", asid, "--json").stdout
    return {item["diffid"]: item["label"] for item in map(json.loads, out.splitlines())}


def test_plain_and_json_exports_import_back_with_every_label(
    isolated_dirs: dict[str, str],
) -> None:
    env = _env(isolated_dirs)
    _watch_labelled(env, "7")
    plain_export = _cli(env, "export", "--asid", "7")
    assert plain_export.returncode == 0
    assert plain_export.stdout.splitlines()[0] == "4101  # eu build"
    json_export = _cli(env, "export", "--asid", "7", "--json")
    lines = json_export.stdout.splitlines()
    assert len(lines) == len(LABELS)
    assert json.loads(lines[0]) == {"diffid": 4101, "label": "eu build"}
    commented_json = "# exported from 7\n\n" + json_export.stdout
    for asid, exported in (("8", plain_export.stdout), ("9", commented_json)):
        imported = _cli(env, "import", "--asid", asid, "-", stdin=exported)
        assert imported.returncode == 0, imported.stderr
        assert _listed(env, asid) == LABELS


def test_import_errors_name_the_line(isolated_dirs: dict[str, str]) -> None:
    env = _env(isolated_dirs)
    bad_plain = "# mine\n4101  # ok\n4102 x1\n\n4103, 0\n"
    run = _cli(env, "import", "--asid", "7", "-", stdin=bad_plain)
    assert run.returncode == 2
    assert "line 3 'x1'" in run.stderr and "line 5 '0'" in run.stderr
    bad_json = '{"diffid": 4101}\n{"diffid": "abc"}\nnot json\n'
    run = _cli(env, "import", "--asid", "7", "-", stdin=bad_json)
    assert run.returncode == 2
    assert "line 2 'abc'" in run.stderr and "line 3 'not json'" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert _listed(env, "7") == {}


_labels = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=40
).map(str.strip)
_watchlists = st.dictionaries(st.integers(1, MAX_DIFF_ID), _labels, max_size=20)


@given(_watchlists)
def test_both_exports_parse_back_to_the_same_ids_and_labels(watched: dict[int, str]) -> None:
    for export in (export_plain, export_json_lines):
        parsed = parse_import("\n".join(export(watched.items())))
        assert parsed.errors == ()
        assert parsed.ids == tuple(watched)
        assert dict(parsed.labels) == {k: v for k, v in watched.items() if v}


@given(st.text(max_size=200))
def test_any_text_parses_without_raising(text: str) -> None:
    parsed = parse_import(text)
    assert len(set(parsed.ids)) == len(parsed.ids)
    assert all(error.line >= 1 for error in parsed.errors)
