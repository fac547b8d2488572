"""An App dressed from the theme catalog (``themes/`` and the user's theme folder).

:class:`ThemedApp` registers every theme of the catalog, keeps Textual's NO_COLOR
filter right for the theme shown, derives the job-state colours a theme lacks, and
offers the picker that saves the choice. The app proper (:class:`tui.ui.app.ImageDiffApp`)
builds on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.filter import Monochrome, NoColor

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
        shown = theme or DEFAULT_THEME
        # The rest of the built-in ones are read when the picker first lists them.
        for name, source in themes.themes.items():
            if source.loaded or name == shown:
                self.register_theme(source.theme)
        self._show_from_the_start(shown)

    def _register_catalog(self) -> None:
        """Every theme of the catalog, registered (read first where not yet read)."""
        registered = self.available_themes
        for name, source in self.theme_catalog.themes.items():
            if name not in registered:
                self.register_theme(source.theme)

    def _show_from_the_start(self, name: str) -> None:
        """Show theme ``name`` from the first frame, as assigning ``App.theme`` would.

        Assigning it here runs Textual's watcher, which queues a re-parse of the whole
        stylesheet before the first frame (about 7 ms of the first paint) when nothing
        has been parsed yet: what that first parse reads (the variables) and what the
        watcher sets (the app's classes, the ANSI filter) are all the start needs.
        """
        theme = self.get_theme(name)
        if theme is None:
            self.theme = name  # Textual's own error for a theme it does not know
            return
        self.set_reactive(App.theme, name)
        self.update_classes(
            {f"-theme-{name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark},
            update=False,
        )
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())
        self.watch_theme(name)

    def watch_theme(self, theme_name: str) -> None:
        # Textual picks its NO_COLOR filter once, for the theme at start-up; an
        # ANSI theme needs NoColor (Monochrome would grey its colours to black on black).
        if not self.no_color:
            return
        self._filters = [f for f in self._filters if not isinstance(f, NoColor | Monochrome)]
        self._filters.append(NoColor() if self.native_ansi_color else Monochrome())

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
