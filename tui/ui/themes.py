"""Theme files (TOML) turned into :class:`textual.theme.Theme` objects.

A theme file names a theme, says whether it is dark, and gives colours. Only
``primary`` is required; Textual derives the rest of its palette, and this module
derives the app's own job-state colours (``$state-running`` and friends) when the
file leaves them out, so a five-line user theme works::

    name = "my-theme"
    dark = true
    [colors]
    primary = "#4EA1FF"
    success = "#6CCB7A"

Full format (every key outside ``name``, ``dark`` and ``colors.primary`` optional)::

    name = "imagediff-dark"      # letters, digits, '-' and '_'
    dark = true
    ansi = false                 # true: emit the terminal's own ANSI colours
    [colors]
    primary = "#4EA1FF"          # also: secondary accent foreground background
                                 # surface panel boost success warning error
    [states]
    waiting = "..."              # Created / Pending / Queued
    running = "..."              # also: completed failed stale poll-error

Loading is strict: a typo in a key or a colour is reported (file, key, problem)
rather than silently ignored, because a silently ignored colour is a bug report
that says "my theme doesn't work".

Example:
    >>> catalog = load_catalog(None)
    >>> DEFAULT_THEME in catalog.names()
    True
    >>> "state-running" in catalog.themes[DEFAULT_THEME].theme.variables
    True
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from tui.domain.errors import UsageError

APP_VARIABLES: tuple[str, ...] = (
    "state-waiting",
    "state-running",
    "state-completed",
    "state-failed",
    "state-stale",
    "state-poll-error",
)
"""CSS variables the app's widgets use (``$state-running`` etc.); every theme has them."""

DEFAULT_THEME: Final = "imagediff-dark"
"""The theme used when the user has not chosen one."""

COLOR_KEYS: Final[tuple[str, ...]] = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
"""Keys allowed in ``[colors]``; they are the colour fields of Textual's ``Theme``."""

STATE_KEYS: Final[tuple[str, ...]] = tuple(name.removeprefix("state-") for name in APP_VARIABLES)
"""Keys allowed in ``[states]``."""

_TOP_LEVEL_KEYS: Final = ("name", "dark", "ansi", "colors", "states")

# Textual turns the theme name into a CSS class ("-theme-<name>"), so it must be
# a valid identifier there; this also keeps names safe to print and type.
_NAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

# A theme file is a few hundred bytes; refusing huge files keeps a mistaken path
# (a log file, a disk image) from being read into memory.
_MAX_FILE_BYTES: Final = 64 * 1024

# Fallbacks used when a theme does not set the base colour a state derives from.
# Textual would otherwise copy `primary` into success/warning/error, and every job
# state would look the same in a one-colour theme.
_FALLBACK_DARK: Final = {"success": "#5FBF77", "error": "#E5636B", "warning": "#E0B050"}
_FALLBACK_LIGHT: Final = {"success": "#2E7D42", "error": "#B3261E", "warning": "#8A5A00"}


class ThemeError(Exception):
    """A theme file that cannot be used, with the file, the key and the problem.

    ``str()`` is one line, e.g.
    ``theme file /x/y.toml: key colors.primary: 'nope' is not a colour``.
    """

    def __init__(
        self, path: Path, problem: str, *, key: str | None = None, line: int | None = None
    ) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        self.line = line
        where = f"theme file {path}"
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f": key {key}"
        super().__init__(f"{where}: {problem}")


class UnknownTheme(UsageError):
    """A theme name that is not in the catalog; the message lists the available names."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        listed = ", ".join(available) if available else "(none)"
        super().__init__(f"unknown theme {name!r}; available themes: {listed}")


class ThemeSource:
    """A theme file and where it came from; its theme, read once when first asked for.

    User files are read at start (their errors are reported then); a built-in file is
    named after its theme and read when needed: a start shows one theme.
    """

    def __init__(
        self, path: Path, origin: Literal["built-in", "user"], theme: Theme | None = None
    ) -> None:
        self.path = path
        self.origin = origin
        self._theme = theme

    @property
    def theme(self) -> Theme:
        """The theme (a built-in file that fails raises :class:`ThemeError`)."""
        if self._theme is None:
            self._theme = load_theme_file(self.path)
        return self._theme

    @property
    def loaded(self) -> bool:
        """True once the file has been read."""
        return self._theme is not None


@dataclass
class ThemeCatalog:
    """Every theme that loaded, by name, and every file that did not."""

    themes: dict[str, ThemeSource] = field(default_factory=dict)
    errors: list[ThemeError] = field(default_factory=list)

    def names(self) -> list[str]:
        """Theme names, sorted."""
        return sorted(self.themes)


def _parse_color(value: str) -> Color | None:
    try:
        return Color.parse(value)
    except ColorParseError:
        return None


def _blend(color: str, toward: str, factor: float) -> str:
    """``color`` moved ``factor`` of the way to ``toward``, as an opaque hex colour.

    Opaque on purpose: a state colour is also used for borders and glyphs, where
    an alpha colour would look different over every background.
    """
    return Color.parse(color).blend(Color.parse(toward), factor).hex


def default_app_variables(theme: Theme) -> dict[str, str]:
    """The app's state colours derived from ``theme``'s base colours.

    Used for theme files that leave out some ``[states]`` and, through the app's
    ``get_theme_variable_defaults``, for Textual's built-in themes. Every value is
    a single colour that ``Color.parse`` accepts.

    running <- primary, completed <- success, failed <- error, poll-error <-
    warning, waiting <- secondary (else a muted foreground), stale <- a dimmed
    foreground. Base colours the theme does not set fall back to a fixed green,
    red or amber for its light/dark mode, so states stay distinct.
    """
    generated = theme.to_color_system().generate()
    fallback = _FALLBACK_DARK if theme.dark else _FALLBACK_LIGHT

    def base(name: str) -> str:
        value: str | None = getattr(theme, name)
        return value if value is not None else fallback[name]

    foreground = generated["foreground"]
    background = generated["background"]
    if theme.ansi or foreground.startswith("ansi_") or background.startswith("ansi_"):
        # Native ANSI themes must stay within the terminal's 16 colours: blending
        # would produce truecolor values that the theme promised not to use.
        muted = "ansi_default"
        dimmed = "ansi_bright_black"
    else:
        muted = _blend(foreground, background, 0.3)
        dimmed = _blend(foreground, background, 0.55)
    return {
        "state-waiting": theme.secondary if theme.secondary is not None else muted,
        "state-running": theme.primary,
        "state-completed": base("success"),
        "state-failed": base("error"),
        "state-stale": dimmed,
        "state-poll-error": base("warning"),
    }


def _read_regular_file(path: Path, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``path``, or None when it is not a regular file. Opened
    without blocking and checked once open: a FIFO named ``*.toml`` would otherwise
    wait for a writer for ever (and a device would never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read(limit)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        raw = _read_regular_file(path, _MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ThemeError(path, f"cannot read: {error.strerror or error}") from error
    if raw is None:
        raise ThemeError(path, "not a regular file")
    if len(raw) > _MAX_FILE_BYTES:
        raise ThemeError(path, f"file is larger than {_MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ThemeError(path, "not UTF-8 text") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's TOMLDecodeError has no lineno attribute; the line is only
        # in the message, "... (at line 3, column 5)".
        message = str(error)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        raise ThemeError(path, f"invalid TOML: {message}", line=line) from error


def _type_name(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    names[dict] = "a table"
    names[list] = "an array"
    return names.get(type(value), type(value).__name__)


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}allowed: {', '.join(allowed)})"


def _table(
    path: Path, data: dict[str, object], key: str, allowed: tuple[str, ...]
) -> dict[str, str]:
    """The ``[key]`` table of colour strings, checked for unknown keys and bad colours."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ThemeError(path, f"expected a table, got {_type_name(value)}", key=key)
    result: dict[str, str] = {}
    for sub_key, sub_value in value.items():
        full_key = f"{key}.{sub_key}"
        if sub_key not in allowed:
            raise ThemeError(path, _unknown_key(sub_key, allowed), key=full_key)
        if not isinstance(sub_value, str):
            raise ThemeError(
                path, f"expected a colour string, got {_type_name(sub_value)}", key=full_key
            )
        if _parse_color(sub_value) is None:
            raise ThemeError(path, f"{sub_value!r} is not a colour", key=full_key)
        result[sub_key] = sub_value
    return result


def load_theme_file(path: Path) -> Theme:
    """Read one theme file; raise :class:`ThemeError` naming the file, key and problem.

    The returned theme's ``variables`` hold every name in :data:`APP_VARIABLES`:
    those from ``[states]``, the rest from :func:`default_app_variables`.
    """
    data = _read_toml(path)
    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            raise ThemeError(path, _unknown_key(key, _TOP_LEVEL_KEYS), key=key)

    if "name" not in data:
        raise ThemeError(path, "missing required key", key="name")
    name = data["name"]
    if not isinstance(name, str):
        raise ThemeError(path, f"expected a string, got {_type_name(name)}", key="name")
    if not _NAME_RE.fullmatch(name):
        raise ThemeError(
            path,
            f"{name!r} is not a valid theme name "
            "(a letter, then up to 63 letters, digits, '-' or '_')",
            key="name",
        )

    flags: dict[str, bool] = {}
    for flag, required in (("dark", True), ("ansi", False)):
        if flag not in data:
            if required:
                raise ThemeError(path, "missing required key", key=flag)
            continue
        value = data[flag]
        if not isinstance(value, bool):
            raise ThemeError(path, f"expected true or false, got {_type_name(value)}", key=flag)
        flags[flag] = value

    colors = _table(path, data, "colors", COLOR_KEYS)
    if "primary" not in colors:
        raise ThemeError(path, "missing required key", key="colors.primary")
    states = _table(path, data, "states", STATE_KEYS)

    theme = Theme(
        name=name,
        dark=flags["dark"],
        ansi=flags.get("ansi", False),
        primary=colors["primary"],
        secondary=colors.get("secondary"),
        accent=colors.get("accent"),
        foreground=colors.get("foreground"),
        background=colors.get("background"),
        surface=colors.get("surface"),
        panel=colors.get("panel"),
        boost=colors.get("boost"),
        success=colors.get("success"),
        warning=colors.get("warning"),
        error=colors.get("error"),
    )
    try:
        variables = default_app_variables(theme)
    except Exception as error:  # Textual's palette generation rejected the mix
        raise ThemeError(path, f"colours do not form a usable theme: {error}") from error
    variables.update({f"state-{key}": value for key, value in states.items()})
    if theme.ansi:
        # Textual's ANSI palette generator leaves out $ansi-background and
        # $ansi-foreground, which Screen and several widgets reference: its own
        # ansi-dark/ansi-light themes supply them (with cursor and selection
        # colours) as variables. Without them the stylesheet fails to parse.
        variables = {**_textual_ansi_variables(theme.dark), **variables}
    theme.variables = variables
    return theme


def _textual_ansi_variables(dark: bool) -> dict[str, str]:
    source = BUILTIN_THEMES.get("ansi-dark" if dark else "ansi-light")
    variables = dict(source.variables) if source is not None else {}
    # The two that the stylesheet cannot do without, in case Textual renames its themes.
    variables.setdefault("ansi-background", "ansi_black" if dark else "ansi_white")
    variables.setdefault("ansi-foreground", "ansi_white" if dark else "ansi_black")
    return variables


def builtin_themes_dir() -> Path:
    """Where the built-in theme files are.

    An installed wheel carries the repository's ``themes/`` as
    ``tui/ui/builtin_themes/``; a source checkout has them at ``<repo>/themes``.
    """
    packaged = Path(__file__).parent / "builtin_themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "themes"


def _load_dir(catalog: ThemeCatalog, folder: Path, origin: Literal["built-in", "user"]) -> None:
    try:
        files = sorted(folder.glob("*.toml"))
    except OSError as error:
        catalog.errors.append(ThemeError(folder, f"cannot list folder: {error}"))
        return
    seen: dict[str, Path] = {}
    for path in files:
        if origin == "built-in":
            # Read when first needed: each file is named after its theme (a test says so).
            catalog.themes[path.stem] = ThemeSource(path, origin)
            continue
        try:
            theme = load_theme_file(path)
        except ThemeError as error:
            catalog.errors.append(error)
            continue
        if theme.name in seen:
            # Two files in one folder with one name: which wins would depend on
            # file order, so keep the first and say so.
            catalog.errors.append(
                ThemeError(
                    path,
                    f"theme name {theme.name!r} is already used by {seen[theme.name]}",
                    key="name",
                )
            )
            continue
        seen[theme.name] = path
        catalog.themes[theme.name] = ThemeSource(path, origin, theme)


def load_catalog(user_dir: Path | None) -> ThemeCatalog:
    """All built-in themes, then the user's ``*.toml`` files from ``user_dir``.

    A user theme with a built-in's name replaces it. A missing ``user_dir`` is
    fine; a broken file is recorded in ``errors`` and the other files still load.
    User files are read now; built-in ones when their theme is first asked for.
    """
    catalog = ThemeCatalog()
    _load_dir(catalog, builtin_themes_dir(), "built-in")
    if user_dir is not None and user_dir.is_dir():
        _load_dir(catalog, user_dir, "user")
    return catalog


def resolve_theme_name(name: str, catalog: ThemeCatalog) -> str:
    """``name`` if the catalog has it; otherwise raise :class:`UnknownTheme`."""
    if name in catalog.themes:
        return name
    raise UnknownTheme(name, catalog.names())
