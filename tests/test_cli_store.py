"""The profile, watchlist and paths commands, through argparse and register()."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import pytest

from tui.cli import paths as cli_paths
from tui.cli import profile as cli_profile
from tui.cli import watchlist as cli_watchlist
from tui.cli.common import connection_options, exit_code_for
from tui.store.config import DEFAULT_API_URL, load_config
from tui.store.paths import app_paths
from tui.store.watchlist.file import WatchlistStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    dirs: dict[str, str] = {}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
        dirs[name] = str(folder)
    for name in list(os.environ):
        if name.startswith("CLANFORGE_"):
            monkeypatch.delenv(name)
    return dirs


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Parse and run like the real CLI does; returns (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="imagediff-tui", parents=[connection_options()])
    subparsers = parser.add_subparsers()
    for module in (cli_profile, cli_watchlist, cli_paths):
        module.register(subparsers)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args))
    except Exception as exc:
        known = exit_code_for(exc)
        if known is None:
            raise
        print(str(exc), file=sys.stderr)
        code = int(known)
    out, err = capsys.readouterr()
    return code, out, err


class Cli(Protocol):
    """Run one command line; returns (exit code, stdout, stderr)."""

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]: ...


@pytest.fixture
def cli(
    xdg: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    def call(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        return run(list(argv), capsys, monkeypatch, stdin)

    return call


def test_paths_prints_every_file(cli: Cli, xdg: dict[str, str]) -> None:
    code, out, _ = cli("paths")
    assert code == 0
    paths = app_paths()
    for path in (
        paths.config_file,
        paths.watchlist_file,
        paths.status_cache_file,
        paths.journal_file,
        paths.log_file,
        paths.themes_dir,
    ):
        assert str(path) in out
    code, out, _ = cli("paths", "--json")
    assert json.loads(out)["watchlist"] == str(paths.watchlist_file)
    assert json.loads(out)["journal"] == str(paths.journal_file)
    assert json.loads(out)["cache"] == str(paths.status_cache_file)


# --- profiles --------------------------------------------------------------------------


def test_profile_add_reads_secret_from_stdin_and_never_shows_it(cli: Cli) -> None:
    code, out, _ = cli(
        "profile",
        "add",
        "prod",
        "--asid",
        "1234",
        "--access-key",
        "AKLONGKEY",
        "--no-check",
        stdin="s3cret-value\n",
    )
    assert code == 0 and "prod (default)" in out
    path = app_paths().config_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = load_config(path).profiles["prod"]
    assert (profile.asid, profile.access_key, profile.secret) == (1234, "AKLONGKEY", "s3cret-value")
    code, out, _ = cli("profile", "list")
    assert code == 0 and "* prod" in out and "stored in config file" in out
    assert "s3cret-value" not in out and "AKLONGKEY" not in out


def test_profile_add_prompts_on_a_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed-secret"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    parser = argparse.ArgumentParser()
    cli_profile.register(parser.add_subparsers())
    args = parser.parse_args(
        ["profile", "add", "p", "--asid", "1", "--access-key", "k", "--no-check"]
    )
    monkeypatch.setattr(sys, "stdin", Tty())
    assert args.handler(args) == 0
    assert prompts and load_config(app_paths().config_file).profiles["p"].secret == "typed-secret"


def test_profile_secret_sources_and_default(cli: Cli) -> None:
    assert (
        cli(
            "profile",
            "add",
            "a",
            "--asid",
            "1",
            "--access-key",
            "k",
            "--secret-env",
            "A_SECRET",
            "--no-check",
        )[0]
        == 0
    )
    assert (
        cli(
            "profile",
            "add",
            "b",
            "--asid",
            "2",
            "--access-key",
            "k",
            "--secret-command",
            "pass show cf/b",
            "--no-check",
        )[0]
        == 0
    )
    _, out, _ = cli("profile", "list")
    assert "* a" in out and "environment variable A_SECRET" in out
    assert "command: pass show cf/b" in out
    assert cli("profile", "default", "b")[0] == 0
    assert load_config(app_paths().config_file).default_profile == "b"
    assert cli("profile", "remove", "b")[0] == 0
    config = load_config(app_paths().config_file)
    assert config.default_profile is None and list(config.profiles) == ["a"]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add", "p", "--asid", "0", "--access-key", "k"], "s\n", "--asid '0'"),
        (["add", "p", "--asid", "x", "--access-key", "k"], "s\n", "account service ID"),
        (["add", "bad name", "--asid", "1", "--access-key", "k"], "s\n", "not valid"),
        (["add", "p", "--asid", "1", "--access-key", "k"], "\n", "no secret key given"),
        (
            ["add", "p", "--asid", "1", "--access-key", "k", "--secret-env", "1X"],
            "",
            "--secret-env",
        ),
        (["add", "p", "--asid", "1", "--access-key", "k", "--api-url", "x"], "s\n", "--api-url"),
        (["remove", "nope"], "", "there is no profile 'nope'"),
        (["default", "nope"], "", "there is no profile 'nope'"),
    ],
)
def test_profile_usage_errors_exit_2(cli: Cli, argv: list[str], stdin: str, message: str) -> None:
    code, _, err = cli("profile", *argv, stdin=stdin)
    assert code == 2 and message in err
    assert not app_paths().config_file.exists()


def test_profile_add_twice_needs_replace(cli: Cli) -> None:
    base = ("profile", "add", "p", "--asid", "1", "--access-key", "k", "--no-check")
    assert cli(*base, stdin="one\n")[0] == 0
    code, _, err = cli(*base, stdin="two\n")
    assert code == 2 and "--replace" in err
    assert cli(*base, "--replace", stdin="two\n")[0] == 0
    assert load_config(app_paths().config_file).profiles["p"].secret == "two"


# --- watchlist ---------------------------------------------------------------------------


def ids_on_disk() -> list[tuple[str, int, int]]:
    return [e.key for e in WatchlistStore(app_paths().watchlist_file).load().entries]


def test_watchlist_add_list_remove(cli: Cli) -> None:
    code, out, _ = cli(
        "watchlist",
        "add",
        "--asid",
        "7",
        "4101",
        "4102,4103",
        "--label",
        "EU \x1b[2J build",
    )
    assert code == 0 and "added 3 diffs" in out
    assert ids_on_disk() == [(DEFAULT_API_URL, 7, i) for i in (4101, 4102, 4103)]
    code, out, err = cli("watchlist", "add", "--asid", "7", "4101", "4104", "4104")
    assert code == 0 and "added 1 diff" in out and "skipped: 4101, 4104" in err
    code, out, _ = cli("watchlist", "list", "--asid", "7")
    assert "4101" in out and "EU \\x1b[2J build" in out and "\x1b" not in out
    code, out, _ = cli("watchlist", "list", "--asid", "7", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["diffid"] for r in rows] == [4101, 4102, 4103, 4104]
    assert rows[0]["label"] == "EU \x1b[2J build"
    code, out, err = cli("watchlist", "remove", "--asid", "7", "4102", "999")
    assert code == 0 and "removed 1 diff" in out and "not on the watchlist: 999" in err
    assert cli("watchlist", "list", "--asid", "8")[1] == ""


def test_bad_tokens_are_all_reported_and_nothing_is_written(cli: Cli) -> None:
    assert cli("watchlist", "add", "--asid", "7", "1")[0] == 0
    before = app_paths().watchlist_file.read_bytes()
    code, _, err = cli("watchlist", "add", "--asid", "7", "5", "x1,6", "-3", "0")
    assert code == 2
    assert "3 bad diff IDs" in err
    for part in ("#2 'x1'", "#4 '-3'", "#5 '0'", "nothing was added"):
        assert part in err
    assert app_paths().watchlist_file.read_bytes() == before


def test_import_with_mixed_tokens_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "ids.txt"
    source.write_text("4101, 4102  # EU\nabc\n4103 99999999999999999999\n", encoding="utf-8")
    code, _, err = cli("watchlist", "import", "--asid", "7", str(source))
    assert code == 2 and "line 2 'abc'" in err and "line 3 '99999999999999999999'" in err
    assert not app_paths().watchlist_file.exists()


def test_import_file_and_stdin_and_export_round_trip(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "ids.txt"
    source.write_text("# my diffs\n4101, 4102  # EU\n\n4103\n4101\n", encoding="utf-8")
    code, out, _ = cli(
        "watchlist",
        "import",
        "--asid",
        "7",
        str(source),
        "--label",
        "l\nx",
    )
    assert code == 0 and "added 3 diffs" in out
    code, out, _ = cli("watchlist", "import", "--asid", "7", "-", stdin="4104 4105")
    assert code == 0 and "4104, 4105" in out
    code, exported, _ = cli("watchlist", "export", "--asid", "7")
    assert exported.splitlines()[0] == "4101  # l x"
    code, out, _ = cli("watchlist", "import", "--asid", "9", "-", stdin=exported)
    assert code == 0 and "added 5 diffs" in out
    code, out, _ = cli("watchlist", "export", "--asid", "9", "--json")
    assert [json.loads(line)["diffid"] for line in out.splitlines()] == [
        4101,
        4102,
        4103,
        4104,
        4105,
    ]


def test_import_missing_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("watchlist", "import", "--asid", "7", str(tmp_path / "no"))
    assert code == 2 and "cannot read" in err


def test_watchlist_follows_the_profiles_account(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("profile", "add", "prod", "--asid", "11", "--access-key", "k", "--no-check", stdin="s\n")
    cli("profile", "add", "eu", "--asid", "22", "--access-key", "k", "--no-check", stdin="s\n")
    assert cli("watchlist", "add", "1")[0] == 0
    assert cli("watchlist", "add", "--profile", "eu", "2")[0] == 0
    monkeypatch.setenv("CLANFORGE_PROFILE", "eu")
    assert cli("watchlist", "add", "3")[0] == 0
    assert ids_on_disk() == [
        (DEFAULT_API_URL, 11, 1),
        (DEFAULT_API_URL, 22, 2),
        (DEFAULT_API_URL, 22, 3),
    ]


def test_watchlist_without_an_account_is_a_config_error(cli: Cli) -> None:
    code, _, err = cli("watchlist", "add", "1")
    assert code == 3 and "CLANFORGE_ASID" in err
    code, _, err = cli("watchlist", "list", "--asid", "abc")
    assert code == 2 and "--asid 'abc'" in err


def test_corrupt_watchlist_is_reported_by_the_cli(cli: Cli) -> None:
    path = app_paths().watchlist_file
    path.parent.mkdir(parents=True)
    path.write_text("not toml [", encoding="utf-8")
    code, out, err = cli("watchlist", "add", "--asid", "7", "5")
    assert code == 0 and "moved to" in err and "added 1 diff" in out
    assert len(list(path.parent.glob("watchlist.toml.corrupt-*"))) == 1


# --- the real command -----------------------------------------------------------------------


def test_real_cli_watchlist_in_a_subprocess(xdg: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **xdg, "PYTHONPATH": str(ROOT), "CLANFORGE_ASID": "7"}

    def real(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=30,
        )

    added = real("watchlist", "add", "4101", "4102")
    assert added.returncode == 0, added.stderr
    bad = real("watchlist", "add", "4103", "nope")
    assert bad.returncode == 2 and "'nope'" in bad.stderr
    listed = real("watchlist", "list", "--json")
    assert [json.loads(line)["diffid"] for line in listed.stdout.splitlines()] == [4101, 4102]
    del env["CLANFORGE_ASID"]
    missing = real("watchlist", "list")
    assert missing.returncode == 3 and "CLANFORGE_ASID" in missing.stderr


def test_real_cli_profile_and_paths_in_a_subprocess(xdg: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **xdg, "PYTHONPATH": str(ROOT)}
    for name in [n for n in env if n.startswith("CLANFORGE_")]:
        del env[name]

    def real(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=30,
        )

    added = real(
        "profile",
        "add",
        "prod",
        "--asid",
        "5",
        "--access-key",
        "AK",
        "--no-check",
        stdin="pw-123\n",
    )
    assert added.returncode == 0, added.stderr
    listed = real("profile", "list")
    assert "* prod" in listed.stdout and "pw-123" not in listed.stdout + listed.stderr
    paths = real("paths")
    assert paths.returncode == 0 and xdg["XDG_DATA_HOME"] in paths.stdout
    config = Path(xdg["XDG_CONFIG_HOME"]) / "imagediff-tui" / "config.toml"
    config.chmod(0o644)
    refused = real("watchlist", "list")
    assert refused.returncode == 3 and f"run: chmod 600 {config}" in refused.stderr
