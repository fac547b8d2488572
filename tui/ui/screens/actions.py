"""The monitor's actions, in one table: keys, footer, command palette and help read it.

Each row is one action: its keymap id, default key, words, whether it changes
anything (hidden in read-only mode) and whether it is app-wide (also under
dialogs: pause, theme, help, quit) or belongs to the list's screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

# As App.set_keymap reads a keymap ("?" is "question_mark"): the same names compared.
from textual.keys import _normalize_key_list

from tui.ui.textual_internals import keymapped_bindings
from tui.ui.widgets.job_list import JobList


@dataclass(frozen=True)
class MonitorAction:
    """One action of the monitor.

    Example:
        >>> MonitorAction("sort", "sort", "s", "Sort", "Cycle sort", "Sort by state").binding()
        Binding(key='s', action='sort', description='Sort', ...)
    """

    id: str
    """The binding id, as the `[keymap]` table of config.toml names it."""
    action: str
    key: str | None
    """The default key; None: only in the palette (the list binds its own key)."""
    description: str
    """Footer and help words."""
    title: str | None = None
    """The palette's title; None: not in the palette (or Textual lists its own)."""
    help: str = ""
    """The palette's second line."""
    writes: bool = False
    """Changes the server or the watchlist: hidden in read-only mode."""
    footer: bool = False
    app_wide: bool = False
    """Bound on the app (works under dialogs too), not on the monitor screen."""

    def binding(self) -> Binding:
        """The key binding (assumes ``key`` is set)."""
        assert self.key is not None
        return Binding(self.key, self.action, self.description, show=self.footer, id=self.id)


ACTIONS: Final[tuple[MonitorAction, ...]] = (
    MonitorAction(
        "retry", "retry", "R", "Retry", "Retry selected diffs",
        "Retry the selected (or focused) diffs", writes=True, footer=True,
    ),
    MonitorAction(
        "accept", "accept", "V", "Accept", "Accept selected diffs",
        "Create image versions from the selected (or focused) diffs", writes=True, footer=True,
    ),
    MonitorAction(
        "reject", "reject", "X", "Reject", "Reject selected diffs",
        "Reject the selected (or focused) diffs, unlocking their images", writes=True,
        footer=True,
    ),
    MonitorAction(
        "go-to-lock", "go_to_lock", "o", "Go to lock", "Go to the locking diff",
        "Go to the diff whose lock made the focused diff fail (watching it if needed)",
    ),
    MonitorAction(
        "new-diff", "new_diff", "N", "New diff", "New diff",
        "Start a diff of an image on a machine (offered from the focused diff)", writes=True,
        footer=True,
    ),
    MonitorAction(
        "add", "add", "n", "Add", "Add diffs", "Add diff IDs to the watchlist", footer=True
    ),
    MonitorAction(
        "remove", "remove", "d", "Remove", "Remove diffs",
        "Stop watching the selected diffs", writes=True, footer=True,
    ),
    MonitorAction(
        "undo", "undo", "u", "Undo", "Undo remove",
        "Bring back the diffs just removed, with their labels and decisions", writes=True,
    ),
    MonitorAction(
        "edit-label", "edit_label", "e", "Label", "Edit label", "Change the focused diff's label"
    ),
    MonitorAction(
        "details", "details", None, "Details", "Show details",
        "Open the focused diff's detail screen",
    ),
    MonitorAction(
        "filter", "filter", "slash", "Filter", "Filter", "Filter by ID, label or state",
        footer=True,
    ),
    MonitorAction(
        "sort", "sort", "s", "Sort", "Cycle sort", "Sort by state, ID, ETA or last update",
        footer=True,
    ),
    MonitorAction(
        "sort-reverse", "sort_reverse", "S", "Reverse sort", "Reverse sort",
        "Flip the sort direction (the header shows ↑ or ↓)",
    ),
    # ctrl+z too: k9s's "toggle faults".
    MonitorAction(
        "attention", "attention", "f,ctrl+z", "To-do", "Toggle needs attention",
        "Only what needs you (decide, failed, refused, version failed, keys); combines with /",
        footer=True,
    ),
    MonitorAction(
        "pause", "pause", "p", "Pause", "Pause / resume polling",
        "Stop or restart all status requests", footer=True, app_wide=True,
    ),
    MonitorAction(
        "refresh", "refresh", "r", "Refresh", "Refresh now",
        "Poll the selected (or focused) diffs now",
    ),
    MonitorAction(
        "select-all", "select_all", "a", "Select all", "Select all",
        "Select every diff the filter shows",
    ),
    MonitorAction(
        "select-none", "select_none", "A", "Select none", "Select none", "Clear the selection"
    ),
    MonitorAction(
        "copy-id", "copy_id", "c", "Copy ID", "Copy diff ID",
        "Copy the focused diff's ID (OSC 52)",
    ),
    MonitorAction("compact", "compact", "m", "Compact", "Toggle compact mode", "One line per diff"),
    MonitorAction(
        "theme", "pick_theme", "t", "Theme", "Pick theme", "Choose a theme with a live preview",
        app_wide=True,
    ),
    MonitorAction(
        "switch-profile", "switch_profile", "P", "Profile", "Switch profile",
        "Watch another profile's account (its URL and ASID) without restarting", app_wide=True,
    ),
    MonitorAction(
        "events", "events", "l", "Events", "Events",
        "What happened: state changes, retries, outages", footer=True,
    ),
    # Not "Keys": Textual's own "Keys" (its help panel) is listed too.
    MonitorAction(
        "help", "help", "question_mark", "Help", "Key bindings",
        "Show every key binding of the monitor", footer=True, app_wide=True,
    ),
    MonitorAction("quit", "quit", "q", "Quit", footer=True, app_wide=True),
)  # fmt: skip

WRITE_ACTIONS: Final = frozenset(row.action for row in ACTIONS if row.writes)
"""Actions that read-only mode hides (keys, footer, palette, help)."""


def palette_commands(owner: DOMNode, rows: Iterable[MonitorAction]) -> Iterator[SystemCommand]:
    """The command palette's entries for ``rows`` that have a title, each calling
    ``owner``'s ``action_<action>`` method; each says its key (as the keymap set it),
    so the palette teaches the keys."""
    keys = bound_keys(owner)
    for row in rows:
        if row.title is not None:
            callback: Callable[[], object] = getattr(owner, f"action_{row.action}")
            key = keys.get(row.id)
            help_text = f"key {key} · {row.help}" if key else row.help
            yield SystemCommand(row.title, help_text, callback)


def bound_keys(owner: DOMNode) -> dict[str, str]:
    """Per binding id on ``owner``, the key that runs it, as the footer writes it."""
    display = owner.app.get_key_display
    keys: dict[str, str] = {}
    for binding in keymapped_bindings(owner):
        if binding.id and binding.id not in keys:
            keys[binding.id] = display(binding)
    return keys


FOOTER_ORDER: Final[tuple[str, ...]] = (
    "quit", "help", "retry", "accept", "reject", "attention", "filter", "events",
    "new_diff", "add", "remove", "sort", "pause",
)  # fmt: skip
"""The footer's actions, most used first: a narrow footer drops them from the end."""


def bindings(*, app_wide: bool) -> list[BindingType]:
    """The app's bindings (``app_wide``) or the monitor screen's, in table order.

    The screen's include, for each writing action, a hidden binding on the same key
    that says why the key does nothing in read-only mode.
    """
    rows = [row for row in ACTIONS if row.app_wide == app_wide and row.key is not None]
    keys: list[BindingType] = [row.binding() for row in rows]
    if not app_wide:
        keys += [
            Binding(row.key, f"read_only('{row.action}')", show=False, id=f"{row.id}-read-only")
            for row in rows
            if row.writes and row.key is not None
        ]
    return keys


def binding_ids() -> list[str]:
    """Every id the `[keymap]` table may name, in the order help lists them."""
    rows = [row.id for row in ACTIONS if row.key is not None]
    return rows + [b.id for b in JobList.BINDINGS if isinstance(b, Binding) and b.id]


def checked_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The `[keymap]` entries that name a binding, each writing action's key also
    moving its read-only twin; and a warning in words naming the unknown ids."""
    known = set(binding_ids())
    unknown = sorted(set(keymap) - known)
    warning = None
    if unknown:
        warning = (
            f"[keymap] has unknown binding ids: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(known))}"
        )
    moved = {key: value for key, value in keymap.items() if key in known}
    for row in ACTIONS:
        if row.writes and row.id in moved:
            moved.setdefault(f"{row.id}-read-only", moved[row.id])
    return moved, warning


def _fixed_keys() -> dict[str, str]:
    """Keys no `[keymap]` id can move (Textual's own: quit, copy, focus, the command
    palette), each with what it does."""
    from textual.app import App
    from textual.screen import Screen

    fixed = {App.COMMAND_PALETTE_BINDING: "the command palette"}
    for binding in [*App.BINDINGS, *Screen.BINDINGS]:
        if isinstance(binding, Binding):
            for key in binding.key.split(","):
                fixed.setdefault(key.strip(), binding.description or binding.action)
    return fixed


def _default_keys() -> dict[str, str]:
    """Each binding id's default keys (comma-separated), as the `[keymap]` names them."""
    keys = {row.id: row.key for row in ACTIONS if row.key is not None}
    keys.update({b.id: b.key for b in JobList.BINDINGS if isinstance(b, Binding) and b.id})
    return keys


def keymap_problem(keymap: dict[str, str]) -> str | None:
    """In words, the first key that ``keymap`` gives a binding while another binding
    keeps it (one of the app's, or one of Textual's that no id can move), naming both;
    None when every key does one thing. Unknown ids are :func:`checked_keymap`'s."""
    keys = _default_keys()
    fixed = _fixed_keys()
    owners: dict[str, str] = dict.fromkeys(fixed, "")
    # The ids the keymap leaves alone first: a remapped binding is the one said to take
    # a key from another.
    ordered = sorted(keys, key=lambda binding_id: binding_id in keymap)
    for binding_id in ordered:
        given = keymap.get(binding_id)
        for key in _normalize_key_list(given or keys[binding_id]).split(","):
            owner = owners.setdefault(key, binding_id)
            if owner == binding_id:
                continue
            if not owner:
                taken = f"Textual's key for {fixed[key].lower()}, which cannot be moved"
                way_out = f"give {binding_id} another key"
            else:
                taken = f"taken by {owner}"
                way_out = f"give {binding_id} another key, or {owner} another in [keymap]"
            return f"[keymap] {binding_id} = {given!r}: {key!r} is {taken}; {way_out}"
    return None
