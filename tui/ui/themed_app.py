"""An App dressed from the theme catalog (``themes/`` and the user's theme folder).

:class:`ThemedApp` registers every theme of the catalog, keeps Textual's NO_COLOR
filter right for the theme shown, derives the job-state colours a theme lacks, and
offers the picker that saves the choice. The app proper (:class:`tui.ui.app.ImageDiffApp`)
builds on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import App
from textual.filter import LineFilter, Monochrome, NoColor

from tui.ui.themes import DEFAULT_THEME, ThemeCatalog, default_app_variables, load_catalog


class ThemedApp(App[None]):
    """An App showing ``theme`` (None: the default) from ``themes`` (None: the built-in
    ones); a theme picked with `t` is passed to ``save_theme`` (None: not saved).

    Example:
        >>> # class MyApp(ThemedApp): ...; MyApp(themes=catalog, theme="nord", save_theme=None)
    """

    def __init__(
        self,
        *,
        themes: ThemeCatalog | None,
        theme: str | None,
        save_theme: Callable[[str], None] | None,
        **app_options: Any,
    ) -> None:
        super().__init__(**app_options)
        if themes is None:
            themes = load_catalog(None)
        self.theme_catalog = themes
        self._save_theme = save_theme
        self._no_color = NoColor()
        self._monochrome = Monochrome()
        shown = theme or DEFAULT_THEME
        # The rest of the built-in ones are read when the picker first lists them.
        for name, source in themes.themes.items():
            if source.loaded or name == shown:
                self.register_theme(source.theme)
        self.theme = shown

    def _register_catalog(self) -> None:
        """Every theme of the catalog, registered (read first where not yet read)."""
        registered = self.available_themes
        for name, source in self.theme_catalog.themes.items():
            if name not in registered:
                self.register_theme(source.theme)

    def get_line_filters(self) -> Sequence[LineFilter]:
        # Textual picks its NO_COLOR filter once, for the theme at start-up; the theme
        # shown now decides: an ANSI theme needs NoColor (Monochrome would grey its
        # colours to black on black).
        filters = super().get_line_filters()
        if not self.no_color:
            return filters
        wanted = self._no_color if self.native_ansi_color else self._monochrome
        kept = [f for f in filters if not isinstance(f, NoColor | Monochrome)]
        return [*kept, wanted]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Textual's own themes lack the job-state colours; derive them.
        return default_app_variables(self.current_theme)

    def action_pick_theme(self) -> None:
        # Only our catalog: a theme saved from here must be one the next start accepts.
        self._register_catalog()
        names = self.theme_catalog.names()
        original = self.theme
        # Imported when first shown: the first paint does not wait for it.
        from tui.ui.screens.theme_picker import ThemePicker, theme_saver

        picked = theme_saver(self, original, self._save_theme)
        self.push_screen(ThemePicker(names, original), picked)

    # Textual's own palette command "Theme" lands here: the picker that saves.
    action_change_theme = action_pick_theme
