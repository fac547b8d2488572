"""Theme files: built-ins, derivation, user overrides, strict errors, CLI, NO_COLOR."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from textual.app import App, ComposeResult
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor
from textual.geometry import Region
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Static

from tests.app_support import theme_files_read
from tui.cli import themes as cli_themes
from tui.ui.themes import (
    APP_VARIABLES,
    DEFAULT_THEME,
    ThemeCatalog,
    ThemeError,
    UnknownTheme,
    builtin_themes_dir,
    default_app_variables,
    load_catalog,
    load_theme_file,
    resolve_theme_name,
)

FIVE_LINES = 'name = "mine"\ndark = true\n[colors]\nprimary = "#4EA1FF"\nsuccess = "#00C853"\n'


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "imagediff-tui" / "themes"
    folder.mkdir(parents=True)
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def relative_luminance(value: str) -> float:
    color = Color.parse(value)

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def lightness(value: str) -> float:
    """CIELAB L*, 0 (black) to 100 (white)."""
    y = relative_luminance(value)
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def contrast(a: str, b: str) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


# -- built-ins ---------------------------------------------------------------------------


def test_builtins_all_load_with_every_app_variable() -> None:
    catalog = load_catalog(None)
    assert catalog.errors == []
    files = sorted(builtin_themes_dir().glob("*.toml"))
    assert len(files) >= 6
    # One theme per file, and the file is named after the theme: names are unique.
    assert len(catalog.themes) == len(files)
    for name, source in catalog.themes.items():
        assert source.origin == "built-in"
        assert source.path.stem == name
        assert source.theme.name == name
        for variable in APP_VARIABLES:
            assert Color.parse(source.theme.variables[variable])
        source.theme.to_color_system().generate()


def test_a_builtin_theme_file_is_read_when_first_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reading and checking the six files took ~9 ms of the first paint, which shows one.
    read = theme_files_read(monkeypatch)
    catalog = load_catalog(None)
    assert read == [] and DEFAULT_THEME in catalog.names()
    assert catalog.themes["imagediff-light"].theme.name == "imagediff-light"
    assert catalog.themes["imagediff-light"].theme.dark is False
    assert read == ["imagediff-light"]


def test_builtin_names() -> None:
    names = set(load_catalog(None).names())
    expected = {"imagediff-dark", "imagediff-light", "high-contrast", "ansi-16"}
    assert expected <= names
    assert len(names - expected) >= 2  # the popular palettes
    assert DEFAULT_THEME in names
    # Registering one of ours must never replace one of Textual's own themes.
    assert names.isdisjoint(BUILTIN_THEMES)


@pytest.mark.parametrize("name", ["imagediff-dark", "imagediff-light", "high-contrast"])
def test_designed_themes_keep_states_distinct_and_legible(name: str) -> None:
    theme = load_catalog(None).themes[name].theme
    states = [theme.variables[v] for v in APP_VARIABLES]
    assert len({s.upper() for s in states}) == len(states)
    assert theme.background is not None
    for variable in APP_VARIABLES:
        # "stale" is deliberately dim; everything else must be readable text.
        minimum = 2.5 if variable == "state-stale" else 4.5
        assert contrast(theme.variables[variable], theme.background) >= minimum, variable


def test_high_contrast_states_differ_by_lightness_not_only_hue() -> None:
    theme = load_catalog(None).themes["high-contrast"].theme
    levels = sorted(lightness(theme.variables[v]) for v in APP_VARIABLES)
    gaps = [b - a for a, b in itertools.pairwise(levels)]
    assert min(gaps) >= 5, levels


def test_ansi_16_uses_only_ansi_colours_and_native_output() -> None:
    theme = load_catalog(None).themes["ansi-16"].theme
    assert theme.ansi
    fields = [
        theme.primary,
        theme.secondary,
        theme.accent,
        theme.foreground,
        theme.background,
        theme.surface,
        theme.panel,
        theme.success,
        theme.warning,
        theme.error,
        *(theme.variables[v] for v in APP_VARIABLES),
    ]
    for value in fields:
        assert value is not None and value.startswith("ansi_"), value
        # Color.parse keeps the ANSI index (-1 is "ansi_default"); nothing became RGB.
        assert Color.parse(value).ansi is not None, value
    generated = theme.to_color_system().generate()
    for key in ("primary", "success", "warning", "error", "foreground", "background"):
        assert generated[key].startswith("ansi_"), (key, generated[key])
    # Textual's own stylesheet references these; an ANSI theme must supply them.
    assert {"ansi-background", "ansi-foreground"} <= theme.variables.keys()


def test_builtin_dir_is_the_checkout_themes_folder() -> None:
    folder = builtin_themes_dir()
    assert (folder / f"{DEFAULT_THEME}.toml").is_file()


# -- derivation and user themes ----------------------------------------------------------


def test_five_line_user_theme_gets_derived_state_variables(user_dir: Path) -> None:
    theme = load_theme_file(write(user_dir, "mine.toml", FIVE_LINES))
    assert theme.name == "mine"
    assert theme.variables["state-running"] == "#4EA1FF"
    assert theme.variables["state-completed"] == "#00C853"
    values = [theme.variables[v] for v in APP_VARIABLES]
    for value in values:
        Color.parse(value)
    # Textual would paint error/warning in the primary colour; the derivation keeps
    # every state distinct even in a one-colour theme.
    assert len({v.upper() for v in values}) == len(APP_VARIABLES)


def test_states_in_file_override_derived(user_dir: Path) -> None:
    text = FIVE_LINES + '[states]\nfailed = "magenta"\n'
    theme = load_theme_file(write(user_dir, "mine.toml", text))
    assert theme.variables["state-failed"] == "magenta"
    assert theme.variables["state-running"] == "#4EA1FF"


@pytest.mark.parametrize("name", sorted(BUILTIN_THEMES))
def test_default_app_variables_for_textual_builtin_themes(name: str) -> None:
    variables = default_app_variables(BUILTIN_THEMES[name])
    assert set(variables) == set(APP_VARIABLES)
    for value in variables.values():
        Color.parse(value)


def test_default_app_variables_light_theme_without_base_colours() -> None:
    variables = default_app_variables(Theme(name="x", primary="#336699", dark=False))
    assert len(set(variables.values())) == len(APP_VARIABLES)


def test_user_theme_overrides_builtin(user_dir: Path) -> None:
    text = 'name = "imagediff-dark"\ndark = false\n[colors]\nprimary = "#123456"\n'
    path = write(user_dir, "my-dark.toml", text)
    catalog = load_catalog(user_dir)
    source = catalog.themes["imagediff-dark"]
    assert (source.origin, source.path, source.theme.primary) == ("user", path, "#123456")
    assert "imagediff-light" in catalog.themes


def test_missing_user_dir_is_fine(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "does-not-exist")
    assert catalog.errors == []
    assert DEFAULT_THEME in catalog.themes


def test_duplicate_user_names_keep_the_first(user_dir: Path) -> None:
    first = write(user_dir, "a.toml", FIVE_LINES)
    second = write(user_dir, "b.toml", FIVE_LINES)
    catalog = load_catalog(user_dir)
    assert catalog.themes["mine"].path == first
    [error] = catalog.errors
    assert error.path == second and error.key == "name"


# -- strict errors -----------------------------------------------------------------------

BROKEN = [
    pytest.param(
        'name = "x"\ndark = true\n[colors\nprimary = "#fff"\n',
        None,
        "invalid TOML",
        3,
        id="bad-toml",
    ),
    pytest.param(
        'name = "x"\ndark = true\nshade = 1\n[colors]\nprimary = "#fff"\n',
        "shade",
        "unknown key",
        None,
        id="unknown-top-level",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nprimary = "#fff"\nprimry = "#fff"\n',
        "colors.primry",
        "did you mean 'primary'",
        None,
        id="unknown-colour-key",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nprimary = "#fff"\n[states]\nbusy = "red"\n',
        "states.busy",
        "unknown key",
        None,
        id="unknown-state-key",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nprimary = "nope"\n',
        "colors.primary",
        "'nope' is not a colour",
        None,
        id="unparseable-colour",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nprimary = "#fff"\n[states]\nfailed = "#ggg"\n',
        "states.failed",
        "'#ggg' is not a colour",
        None,
        id="unparseable-state-colour",
    ),
    pytest.param(
        'name = "x"\ndark = "yes"\n[colors]\nprimary = "#fff"\n',
        "dark",
        "expected true or false, got a string",
        None,
        id="wrong-type-dark",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nprimary = 255\n',
        "colors.primary",
        "expected a colour string, got an integer",
        None,
        id="wrong-type-colour",
    ),
    pytest.param(
        'name = "x"\ndark = true\ncolors = "blue"\n',
        "colors",
        "expected a table",
        None,
        id="wrong-type-table",
    ),
    pytest.param(
        'dark = true\n[colors]\nprimary = "#fff"\n',
        "name",
        "missing required key",
        None,
        id="no-name",
    ),
    pytest.param(
        'name = "x"\n[colors]\nprimary = "#fff"\n',
        "dark",
        "missing required key",
        None,
        id="no-dark",
    ),
    pytest.param(
        'name = "x"\ndark = true\n[colors]\nsecondary = "#fff"\n',
        "colors.primary",
        "missing required key",
        None,
        id="no-primary",
    ),
    pytest.param(
        'name = "my theme!"\ndark = true\n[colors]\nprimary = "#fff"\n',
        "name",
        "not a valid theme name",
        None,
        id="bad-name",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem", "line"), BROKEN)
def test_broken_file_is_named_and_others_still_load(
    user_dir: Path, text: str, key: str | None, problem: str, line: int | None
) -> None:
    bad = write(user_dir, "bad.toml", text)
    write(user_dir, "good.toml", FIVE_LINES)

    with pytest.raises(ThemeError) as caught:
        load_theme_file(bad)
    error = caught.value
    assert (error.path, error.key, error.line) == (bad, key, line)
    assert problem in error.problem
    message = str(error)
    assert message.startswith(f"theme file {bad}")
    assert "\n" not in message
    if key is not None:
        assert f"key {key}: " in message
    if line is not None:
        assert f"line {line}" in message

    catalog = load_catalog(user_dir)
    assert [e.path for e in catalog.errors] == [bad]
    assert "mine" in catalog.themes and DEFAULT_THEME in catalog.themes


def test_error_str_format() -> None:
    error = ThemeError(Path("/x/y.toml"), "'nope' is not a colour", key="colors.primary")
    assert str(error) == "theme file /x/y.toml: key colors.primary: 'nope' is not a colour"


def test_unreadable_and_non_utf8_files(user_dir: Path) -> None:
    latin = user_dir / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ThemeError, match="not UTF-8"):
        load_theme_file(latin)
    with pytest.raises(ThemeError, match="cannot read"):
        load_theme_file(user_dir / "absent.toml")
    huge = write(user_dir, "huge.toml", "# " + "x" * 70_000 + "\n")
    with pytest.raises(ThemeError, match="larger than"):
        load_theme_file(huge)


def test_unknown_theme_lists_names() -> None:
    catalog = load_catalog(None)
    assert resolve_theme_name("high-contrast", catalog) == "high-contrast"
    with pytest.raises(UnknownTheme) as caught:
        resolve_theme_name("hgih-contrast", catalog)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "'hgih-contrast'" in message
    for name in catalog.names():
        assert name in message


def test_unknown_theme_in_empty_catalog() -> None:
    with pytest.raises(UnknownTheme, match=r"\(none\)"):
        resolve_theme_name("x", ThemeCatalog())


# -- CLI ---------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="imagediff-tui")
    cli_themes.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_themes_path_follows_xdg_config_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["themes", "path"]) == 0
    out = capsys.readouterr().out
    assert out == f"{tmp_path / 'config' / 'imagediff-tui' / 'themes'}\n"


def test_themes_list(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(user_dir, "mine.toml", FIVE_LINES)
    bad = write(user_dir, "bad.toml", 'name = "bad"\ndark = true\n[colors]\nprimary = "nope"\n')
    write(user_dir, "also-bad.toml", "name = \n")

    assert run_cli(["themes", "list"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    by_name = {line[2:].split()[0]: line for line in lines}
    assert set(by_name) == set(load_catalog(user_dir).names())
    assert by_name[DEFAULT_THEME].startswith("* ")
    assert all(line.startswith("  ") for name, line in by_name.items() if name != DEFAULT_THEME)
    assert by_name["mine"].split()[1:] == ["dark", "user", str(good)]
    assert by_name["imagediff-light"].split()[1:3] == ["light", "built-in"]
    errors = captured.err.splitlines()
    assert len(errors) == 2
    assert any(str(bad) in line and "colors.primary" in line for line in errors)


def test_themes_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run_cli(["themes"])
    assert caught.value.code == 2


# -- NO_COLOR and ANSI in a running app --------------------------------------------------


class StateApp(App[None]):
    """A tiny app painting with the app's state variables, as the real widgets do."""

    CSS = "Static { color: $state-failed; background: $state-running; }"

    def __init__(self, theme_name: str) -> None:
        super().__init__()
        self._theme_name = theme_name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_app_variables(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Static("failed")

    def on_mount(self) -> None:
        for source in load_catalog(None).themes.values():
            self.register_theme(source.theme)
        self.theme = self._theme_name


async def first_colors(app: StateApp) -> tuple[RichColor, RichColor]:
    """Foreground and background of the first cell, as the terminal would get them."""
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.pause()
        widget = app.query_one(Static)
        # render_lines goes through the styles cache, which applies the app's
        # line filters (where NO_COLOR is implemented).
        strip = widget.render_lines(Region(0, 0, widget.size.width, 1))[0]
        style = next(iter(strip)).style
        assert style is not None and style.color is not None and style.bgcolor is not None
        return style.color, style.bgcolor


@pytest.mark.parametrize("name", ["imagediff-dark", "high-contrast", "ansi-16", "textual-dark"])
async def test_themes_render_in_an_app(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = StateApp(name)
    await first_colors(app)
    assert app.theme == name


async def test_ansi_16_emits_native_ansi_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = StateApp("ansi-16")
    color, bgcolor = await first_colors(app)
    assert app.native_ansi_color
    # ansi_bright_red / ansi_bright_blue reach the terminal as palette indexes 9 / 12.
    assert color.number == 9 and bgcolor.number == 12


async def test_no_color_with_truecolor_theme_is_monochrome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = StateApp("imagediff-dark")
    color, bgcolor = await first_colors(app)
    assert app.no_color
    assert any(isinstance(f, Monochrome) for f in app.get_line_filters())
    for each in (color, bgcolor):
        assert each.triplet is not None
        red, green, blue = each.triplet
        assert red == green == blue


async def test_no_color_with_ansi_theme_needs_the_nocolor_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual picks NoColor or Monochrome once, in App.__init__, from the theme current
    then (always one of its own truecolor themes, as ours are registered later). For an
    ANSI theme Monochrome turns palette colours into black on black; an app that offers
    ansi-16 must swap in NoColor when its theme changes. This pins both facts.
    """
    monkeypatch.setenv("NO_COLOR", "1")
    app = StateApp("ansi-16")
    color, bgcolor = await first_colors(app)
    assert any(isinstance(f, Monochrome) for f in app.get_line_filters())
    assert color.triplet == bgcolor.triplet

    class FixedApp(StateApp):
        def get_line_filters(self) -> Sequence[LineFilter]:
            filters = super().get_line_filters()
            if self.no_color and self.native_ansi_color:
                return [NoColor() if isinstance(f, Monochrome) else f for f in filters]
            return filters

    fixed = FixedApp("ansi-16")
    color, bgcolor = await first_colors(fixed)
    assert color.is_default and bgcolor.is_default
