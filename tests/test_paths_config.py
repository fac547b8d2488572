"""Paths, atomic files and locks, and the config file (strict reading, secrets)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.poll_settings import POLL_RANGES, PollSettings
from tui.store import profile_secret as secrets_module
from tui.store.atomic_file import LockTimeout, atomic_write_text, file_lock, lock_path
from tui.store.config import (
    Config,
    ConfigError,
    Profile,
    UiSettings,
    load_config,
    parse_config,
    save_config,
    update_config,
)
from tui.store.paths import app_paths
from tui.store.profile_secret import resolve_secret


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    return tmp_path


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(mode)
    return path


# --- paths ---------------------------------------------------------------------------


def test_paths_follow_xdg_at_call_time(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = app_paths()
    assert paths.config_file == xdg / "xdg_config_home" / "imagediff-tui" / "config.toml"
    assert paths.watchlist_file == xdg / "xdg_data_home" / "imagediff-tui" / "watchlist.toml"
    assert paths.journal_file == paths.watchlist_file.with_name("journal.jsonl")
    assert paths.log_file.name == "imagediff-tui.log"
    assert paths.log_file.is_relative_to(xdg / "xdg_state_home")
    assert paths.themes_dir == paths.config_dir / "themes"
    assert paths.status_cache_file.is_relative_to(xdg / "xdg_cache_home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg / "elsewhere"))
    assert app_paths().config_dir == xdg / "elsewhere" / "imagediff-tui"


# --- atomic files and locks ----------------------------------------------------------


def test_atomic_write_sets_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    target.write_text("old")
    target.chmod(0o644)
    atomic_write_text(target, "new ✓", 0o600)
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.toml"]


def test_lock_times_out_with_a_clear_message(tmp_path: Path) -> None:
    target = tmp_path / "w.toml"
    with file_lock(target), pytest.raises(LockTimeout) as info, file_lock(target, timeout=0.05):
        pass
    assert str(target) in str(info.value)
    assert str(lock_path(target)) in str(info.value)
    with file_lock(target, timeout=0.05):  # released again
        pass


# --- config round trip -----------------------------------------------------------------


def full_config() -> Config:
    return Config(
        default_profile="prod",
        profiles={
            "prod": Profile("prod", asid=1234, access_key="AK1", secret="s3cr3t\"'\\x"),
            "eu": Profile(
                "eu", api_url="http://127.0.0.1:9", asid=7, access_key="AK2", secret_env="EU_KEY"
            ),
            "pw": Profile("pw", asid=8, access_key="AK3", secret_command="pass show cf"),
        },
        poll=PollSettings(max_requests_per_second=2.5, max_in_flight=2, timeout=3.0),
        ui=UiSettings(theme="nord", read_only=True, bell=True, compact=True),
        keymap={"retry": "r,ctrl+r", "quit": "q"},
    )


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == Config()


def test_round_trip_is_private(xdg: Path) -> None:
    path = app_paths().config_file
    save_config(path, full_config())
    assert load_config(path) == full_config()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert save_config.__doc__ and "0600" in save_config.__doc__


def test_profile_repr_never_shows_the_secret() -> None:
    assert "hunter2" not in repr(Profile("p", secret="hunter2"))


def test_update_config_is_one_locked_step(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    save_config(path, full_config())
    update_config(path, lambda c: Config(default_profile=None, profiles={}, ui=c.ui))
    assert load_config(path) == Config(ui=full_config().ui)


def test_group_readable_file_with_a_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(path, full_config())
    path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path} holds a secret key and is readable by other users; run: chmod 600 {path}"
    )


def test_readable_file_without_a_secret_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[ui]\ntheme = "x"\n', 0o644)
    assert load_config(path).ui.theme == "x"


def test_group_writable_file_with_a_command_is_refused(tmp_path: Path) -> None:
    text = '[profiles.a]\nasid = 1\nsecret_command = "pass x"\n'
    path = write(tmp_path / "c.toml", text, 0o620)
    with pytest.raises(ConfigError, match="writable by other users; run: chmod 600"):
        load_config(path)


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root"
)
NOBODY = 65534


@needs_root
def test_profiles_in_a_file_another_user_owns_are_refused(tmp_path: Path) -> None:
    text = '[profiles.a]\nasid = 1\nsecret_command = "pass x"\n'
    path = write(tmp_path / "c.toml", text, 0o644)
    os.chown(path, NOBODY, -1)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{path} defines profiles but belongs to another user (uid {NOBODY})"
    )
    assert f"cp {path} {path}.mine && mv {path}.mine {path}" in str(info.value)


@needs_root
def test_a_file_another_user_owns_without_profiles_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[ui]\ntheme = "x"\n', 0o644)
    os.chown(path, NOBODY, -1)
    assert load_config(path).ui.theme == "x"


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o1777])
def test_profiles_in_a_folder_others_can_write_are_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    path = write(folder / "c.toml", "[profiles.a]\nasid = 1\nsecret_env = 'K'\n")
    folder.chmod(mode)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path} defines profiles but its folder {folder} is writable by other users; "
        f"run: chmod go-w {folder}"
    )
    folder.chmod(0o755)
    assert load_config(path).profiles["a"].secret_env == "K"


def test_profiles_are_not_written_to_a_folder_others_can_write(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(ConfigError, match="is writable by other users; run: chmod go-w"):
        update_config(folder / "c.toml", lambda _: full_config())
    assert not (folder / "c.toml").exists()


@needs_root
def test_profiles_in_a_folder_another_user_owns_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    path = write(folder / "c.toml", "[profiles.a]\nasid = 1\n")
    os.chown(folder, NOBODY, -1)
    with pytest.raises(ConfigError, match=f"belongs to another user \\(uid {NOBODY}\\)"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[ui]\ntheme = "x"\nbell = tru\n', r"not valid TOML: .*line 3"),
        ("colour = 1\n", r": colour: unknown key \(expected one of: default_profile, profiles"),
        ("[profiles.a]\nasid = 1\nsecrets = 'x'\n", r"\[profiles\.a\]\.secrets: unknown key"),
        ("[poll]\nfast = true\n", r"\[poll\]\.fast: unknown key"),
        ("[ui]\nbell = 1\n", r"\[ui\] bell: expected true or false, got an integer"),
        ("[ui]\ntheme = 3\n", r"\[ui\] theme: expected a string, got an integer"),
        ("[poll]\nmax_in_flight = 1.5\n", r"\[poll\] max_in_flight: expected an integer"),
        ("[poll]\ntimeout = '3'\n", r"\[poll\] timeout: expected a number, got a string"),
        ("[poll]\ntimeout = 0\n", r"\[poll\] timeout: 0 is out of range \(expected 1 to 300 s"),
        ("profiles = 3\n", r"\[profiles\]: expected a table, got an integer"),
        ("[profiles.a]\nasid = 0\n", r"\[profiles\.a\] asid: expected an account service ID"),
        ("[profiles.a]\nasid = '12'\n", r"\[profiles\.a\] asid: expected an account service"),
        ("[profiles.a]\nasid = -3\n", r"a positive integer\), got -3"),
        ("[profiles.a]\napi_url = 'ftp://x'\n", r"api_url: expected an http:// or https:// URL"),
        ("[profiles.a]\nsecret_env = ''\n", r"secret_env: expected a non-empty string"),
        (
            "[profiles.a]\nsecret_env = 'A'\nsecret_command = 'b'\n",
            r"give only one of secret, secret_env, secret_command",
        ),
        ("default_profile = 'b'\n[profiles.a]\n", r"default_profile: there is no profile 'b'"),
        ("[keymap]\nretry = ['r']\n", r"\[keymap\] retry: expected a string, got an array"),
    ],
)
def test_every_config_error_names_file_place_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")


def toml_number(value: float) -> str:
    """``value`` as TOML writes it (``nan``, ``inf``, ``-inf`` or Python's repr)."""
    if value != value:
        return "nan"
    return repr(value)


POLL_FLOATS = st.floats(
    allow_nan=True, allow_infinity=True, allow_subnormal=True
) | st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e-300, 5e-324, -0.0, 0.0, 1e300])


@given(key=st.sampled_from(sorted(set(POLL_RANGES) - {"max_in_flight"})), value=POLL_FLOATS)
def test_poll_numbers_are_within_their_range_or_refused_by_name(key: str, value: float) -> None:
    allowed = POLL_RANGES[key]
    text = f"[poll]\n{key} = {toml_number(value)}\n"
    try:
        poll = parse_config(text, Path("config.toml")).poll
    except ConfigError as exc:
        assert not allowed.low <= value <= allowed.high
        assert str(exc) == (
            f"config.toml: [poll] {key}: {value!r} is out of range (expected {allowed})"
        )
    else:
        assert allowed.low <= getattr(poll, key) <= allowed.high


@given(value=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_max_in_flight_is_within_its_range_or_refused_by_name(value: int) -> None:
    text = f"[poll]\nmax_in_flight = {value}\n"
    if 1 <= value <= 64:
        assert parse_config(text, Path("c.toml")).poll.max_in_flight == value
    else:
        with pytest.raises(ConfigError) as info:
            parse_config(text, Path("c.toml"))
        assert str(info.value) == (
            f"c.toml: [poll] max_in_flight: {value} is out of range (expected 1 to 64 requests)"
        )


def test_every_poll_setting_has_a_range_holding_its_default() -> None:
    defaults = PollSettings()
    assert set(POLL_RANGES) == set(PollSettings.__dataclass_fields__)
    for name, allowed in POLL_RANGES.items():
        assert getattr(defaults, name) in allowed


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0])
def test_poll_settings_refuse_what_no_scheduler_can_use(bad: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number above 0"):
        PollSettings(timeout=bad)


def test_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[ui]\ntheme = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


# --- secrets -----------------------------------------------------------------------------


def test_secret_stored_and_from_env() -> None:
    assert resolve_secret(Profile("p", secret="abc")) == "abc"
    assert resolve_secret(Profile("p", secret_env="MY_KEY"), env={"MY_KEY": "xyz"}) == "xyz"
    with pytest.raises(ConfigError, match="environment variable MY_KEY, which is not set"):
        resolve_secret(Profile("p", secret_env="MY_KEY"), env={})
    with pytest.raises(ConfigError, match="has no secret key"):
        resolve_secret(Profile("p"))


def py_command(code: str) -> str:
    import shlex

    return shlex.join([sys.executable, "-c", code])


def test_secret_command_output_is_the_secret() -> None:
    profile = Profile("p", secret_command=py_command("print('tøp secret')"))
    assert resolve_secret(profile) == "tøp secret"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import sys; print('LEAKED-VALUE'); sys.exit(4)", "exited with status 4"),
        ("print('')", "printed nothing"),
        ("print('LEAKED-VALUE'); print('LEAKED-VALUE')", "printed more than one line"),
    ],
)
def test_secret_command_failures_never_quote_output(
    code: str, expected: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        resolve_secret(Profile("p", secret_command=py_command(code)))
    assert "LEAKED" not in str(info.value)
    assert "LEAKED" not in capfd.readouterr().out


def test_secret_command_not_found_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="command not found: /nonexistent/helper"):
        resolve_secret(Profile("p", secret_command="/nonexistent/helper --get"))
    with pytest.raises(ConfigError, match="cannot split"):
        resolve_secret(Profile("p", secret_command="pass 'unclosed"))
    monkeypatch.setattr(secrets_module, "SECRET_COMMAND_TIMEOUT", 0.2)
    with pytest.raises(ConfigError, match=r"did not finish within 0\.2 s"):
        resolve_secret(Profile("p", secret_command=py_command("import time; time.sleep(5)")))


def test_secret_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    profile = Profile("p", secret_command=py_command("print('ok')") + f" ; touch {marker}")
    assert resolve_secret(profile) == "ok"
    assert not marker.exists()


def test_saving_removes_temp_copies_of_dead_writers(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    leftover = tmp_path / ".config.toml.k3j2h1g0.tmp"
    leftover.write_text('secret = "from a killed writer"')
    other = tmp_path / ".other.toml.k3j2h1g0.tmp"
    other.write_text("not ours")
    save_config(path, full_config())
    assert not leftover.exists() and other.exists()


def test_secret_is_taken_when_the_command_exits_whatever_it_left_running(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "child.pid"
    # The background child inherits the output pipe and keeps it open for 30 s.
    command = shlex.join(["sh", "-c", f"sleep 30 & echo $! > {pid_file}; printf SECRET"])
    started = time.monotonic()
    try:
        assert resolve_secret(Profile("p", secret_command=command)) == "SECRET"
        assert time.monotonic() - started < 5.0  # not the 30 s the child holds the pipe
        # Not ours to end: a helper may leave a daemon (gpg-agent) running on purpose.
        os.kill(int(pid_file.read_text()), 0)
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_secret_command_that_closes_its_output_early_is_still_waited_for() -> None:
    code = "import os, sys, time; sys.stdout.write('late'); sys.stdout.close(); time.sleep(0.1)"
    assert resolve_secret(Profile("p", secret_command=py_command(code))) == "late"
    code = "import os, sys, time; sys.stdout.close(); time.sleep(0.1); sys.exit(3)"
    with pytest.raises(ConfigError, match="exited with status 3"):
        resolve_secret(Profile("p", secret_command=py_command(code)))
