"""Image-diff data: parsing and validation of what the API returns, no I/O.

The API documentation gives types that the server does not always keep (numbers as
strings, ``null`` optional fields, progress outside 0..100). Parsing accepts what can
be read unambiguously and raises :class:`InvalidResponse`, naming the field, for the
rest.

Example:
    >>> job = parse_job({"diffid": 7, "jobcreated": 1, "jobfailed": 0, "jobprogress": "40",
    ...                  "jobstatename": "Running", "jobupdated": 2, "jobstateid": 4})
    >>> job.state is JobState.RUNNING, job.progress
    (True, 40)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Final


class InvalidResponse(Exception):
    """The server answered with something that is not a readable job object."""

    def __init__(self, message: str, *, field_name: str | None = None) -> None:
        super().__init__(message)
        self.field_name = field_name


class JobState(IntEnum):
    """A job's ``jobstateid``."""

    CREATED = 1
    PENDING = 2
    QUEUED = 3
    RUNNING = 4
    COMPLETED = 5
    FAILED = 6

    @property
    def label(self) -> str:
        """The state's name as the API spells it."""
        return self.name.capitalize()

    @property
    def is_terminal(self) -> bool:
        """Completed and Failed jobs no longer change until they are retried."""
        return self in (JobState.COMPLETED, JobState.FAILED)

    @property
    def is_waiting(self) -> bool:
        """Created, Pending and Queued: accepted but not running yet."""
        return self in (JobState.CREATED, JobState.PENDING, JobState.QUEUED)

    @property
    def can_retry(self) -> bool:
        """Only terminal diffs may be retried (or rejected)."""
        return self.is_terminal

    @classmethod
    def from_name(cls, name: str) -> JobState | None:
        """The state whose name is ``name`` (any case), or None."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            return None


STATE_BY_ID: Final[dict[int | None, JobState]] = {int(state): state for state in JobState}
"""Each state by its ``jobstateid``."""


class StateGroup(StrEnum):
    """The group a diff is counted (the header) and coloured (its panel) in: every
    diff is in exactly one, so the groups' counts add up to the list.

    >>> StateGroup.of(JobState.QUEUED), StateGroup.of(None)
    (<StateGroup.WAITING: 'waiting'>, <StateGroup.UNKNOWN: 'unknown'>)
    """

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Nothing is known of the diff's state yet."""

    @staticmethod
    def of(state: JobState | None) -> StateGroup:
        """The group of a diff in ``state`` (None: not known)."""
        return _GROUP_OF[state]


class JobKind(StrEnum):
    """The jobs an accept or reject of a diff starts (API.md, Accept and Reject)."""

    VERSION = "version"
    """An image-version job: its status can be read until it ends."""
    UNINSTALL = "uninstall"
    """An uninstall job: the API has no status call for it."""

    @property
    def noun(self) -> str:
        """How a line names one: ``image version``, ``uninstall job``."""
        return "image version" if self is JobKind.VERSION else "uninstall job"


_GROUP_OF: Final[dict[JobState | None, StateGroup]] = {
    None: StateGroup.UNKNOWN,
    JobState.CREATED: StateGroup.WAITING,
    JobState.PENDING: StateGroup.WAITING,
    JobState.QUEUED: StateGroup.WAITING,
    JobState.RUNNING: StateGroup.RUNNING,
    JobState.COMPLETED: StateGroup.COMPLETED,
    JobState.FAILED: StateGroup.FAILED,
}


_KNOWN_JOB_FIELDS: Final = frozenset(
    {
        "diffid",
        "jobcreated",
        "joberror",
        "jobeta",
        "jobfailed",
        "jobprogress",
        "jobstart",
        "jobstateid",
        "jobstatename",
        "jobupdated",
    }
)
_DIFF_INFO_FIELDS: Final = frozenset({"game", "machine", "image", "added", "modified", "removed"})
_INT_TEXT: Final = re.compile(r"[+-]?\d{1,19}")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _field(data: Mapping[str, Any], name: str, *, optional: bool) -> object:
    """The field's value; None for an absent or null one that is ``optional``."""
    value = data.get(name)
    if value is None and not optional:
        raise InvalidResponse(f"field {name!r} is missing", field_name=name)
    return value


def _read_int(data: Mapping[str, Any], name: str, *, optional: bool) -> int | None:
    """An integer field, also accepted as a decimal string or a whole float."""
    value = _field(data, name, optional=optional)
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidResponse(f"field {name!r} must be an integer, got bool", field_name=name)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "" and optional:
            return None
        if _INT_TEXT.fullmatch(text):
            return int(text)
    raise InvalidResponse(
        f"field {name!r} must be an integer, got {_type_name(value)}", field_name=name
    )


def _read_str(data: Mapping[str, Any], name: str, *, optional: bool) -> str | None:
    value = _field(data, name, optional=optional)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidResponse(
        f"field {name!r} must be a string, got {_type_name(value)}", field_name=name
    )


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file in a diff's added / modified / removed map."""

    path: str
    size: int | None = None
    checksum: str | None = None
    modified: int | None = None


@dataclass(frozen=True, slots=True)
class DiffInfo:
    """The extras of a status call made with ``diff_info=1``."""

    game: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)
    added: tuple[FileEntry, ...] = ()
    modified: tuple[FileEntry, ...] = ()
    removed: tuple[FileEntry, ...] = ()

    @property
    def imageid(self) -> int | None:
        """The image's ID, when the answer names one."""
        return object_id(self.image, "imageid")

    @property
    def machineid(self) -> int | None:
        """The build machine's ID, when the answer names one."""
        return object_id(self.machine, "machineid")


def object_id(obj: Mapping[str, object], key: str) -> int | None:
    """A positive ID from ``obj[key]`` (or ``obj["id"]``): an int or a string of digits.

    >>> object_id({"imageid": "50101"}, "imageid"), object_id({"id": True}, "imageid")
    (50101, None)
    """
    value = obj.get(key, obj.get("id"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value) or None
    return None


def _parse_named_object(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidResponse(
            f"field {name!r} must be an object, got {_type_name(value)}", field_name=name
        )
    return dict(value)


def _parse_file_map(data: Mapping[str, Any], name: str) -> tuple[FileEntry, ...]:
    value = data.get(name)
    if value is None:
        return ()
    # Some servers send an empty list instead of an empty object.
    if isinstance(value, list) and not value:
        return ()
    if not isinstance(value, dict):
        raise InvalidResponse(
            f"field {name!r} must be an object of files, got {_type_name(value)}",
            field_name=name,
        )
    entries: list[FileEntry] = []
    for path, info in value.items():
        where = f"{name}[{path!r}]"
        if isinstance(info, dict):
            size = _read_int(info, "size", optional=True) if "size" in info else None
            checksum = _read_str(info, "checksum", optional=True)
            modified = _read_int(info, "modified", optional=True) if "modified" in info else None
        elif info is None or isinstance(info, int | str):
            size, checksum, modified = None, None, None
        else:
            raise InvalidResponse(
                f"field {where} must be a file object, got {_type_name(info)}", field_name=name
            )
        entries.append(FileEntry(str(path), size, checksum, modified))
    entries.sort(key=lambda entry: entry.path)
    return tuple(entries)


def parse_diff_info(data: Mapping[str, Any]) -> DiffInfo | None:
    """The ``diff_info`` extras of a job object, or None when it has none."""
    if not any(name in data for name in _DIFF_INFO_FIELDS):
        return None
    return DiffInfo(
        game=_parse_named_object(data, "game"),
        machine=_parse_named_object(data, "machine"),
        image=_parse_named_object(data, "image"),
        added=_parse_file_map(data, "added"),
        modified=_parse_file_map(data, "modified"),
        removed=_parse_file_map(data, "removed"),
    )


@dataclass(frozen=True, slots=True)
class Job:
    """The job fields of API.md, with normalized types: what every job (a diff, an
    image version, an uninstall) says about its state. The subclasses add the field
    that names the job."""

    state: JobState | None
    state_name: str
    progress: int
    created: int
    updated: int
    failed: bool
    start: int | None = None
    eta: int | None = None
    error: str | None = None
    progress_clamped_from: int | None = None
    """The out-of-range progress the server sent, when it had to be clamped."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields the API documentation does not list, kept for the detail view."""

    @property
    def is_terminal(self) -> bool:
        """True once the job is Completed or Failed (by state id, or by the failed flag)."""
        if self.state is not None:
            return self.state.is_terminal
        return self.failed

    @property
    def known_state(self) -> JobState | None:
        """The state; one this app does not know counts as Failed if it says it failed."""
        if self.state is not None:
            return self.state
        return JobState.FAILED if self.failed else None

    @property
    def display_state(self) -> str:
        """The state's name for display (the server's name when the id is unknown)."""
        return self.state.label if self.state is not None else self.state_name

    def _job_json(self) -> dict[str, Any]:
        """The job fields with the API's names and normalized types."""
        return {
            "jobcreated": self.created,
            "joberror": self.error,
            "jobeta": self.eta,
            "jobfailed": 1 if self.failed else 0,
            "jobprogress": self.progress,
            "jobstart": self.start,
            "jobstateid": int(self.state) if self.state is not None else None,
            "jobstatename": self.state_name,
            "jobupdated": self.updated,
        }


@dataclass(frozen=True, slots=True)
class DiffJob(Job):
    """A diff job as the server last described it, with normalized types."""

    diffid: int = field(kw_only=True)
    info: DiffInfo | None = None
    raw_text: str = field(default="", repr=False, compare=False)
    """The response body this job was read from (for the detail view)."""

    def to_json(self) -> dict[str, Any]:
        """The job with the API's field names and normalized types (for ``--json``)."""
        out: dict[str, Any] = {"diffid": self.diffid, **self._job_json()}
        if self.info is not None:
            out["diff_info"] = {
                "game": self.info.game,
                "machine": self.info.machine,
                "image": self.info.image,
                "added": [entry.path for entry in self.info.added],
                "modified": [entry.path for entry in self.info.modified],
                "removed": [entry.path for entry in self.info.removed],
            }
        return out


@dataclass(frozen=True, slots=True)
class _StartedJob(Job):
    """A job an action on a diff started (an image version, an uninstall): its own ID
    field is the subclass's."""

    diffid: int | None = None
    """The diff it was started from, when the answer names it."""
    success: bool | None = None
    """The starting call's ``success`` (status answers have none; then JSON omits it)."""

    def _keyed_json(self, key: str, jobid: int) -> dict[str, Any]:
        out: dict[str, Any] = {key: jobid}
        if self.diffid is not None:
            out["diffid"] = self.diffid
        out.update(self._job_json())
        if self.success is not None:
            out["success"] = self.success
        return out


@dataclass(frozen=True, slots=True)
class VersionJob(_StartedJob):
    """An image-version job (what accepting a diff starts), keyed by ``imageversionid``."""

    imageversionid: int = field(kw_only=True)

    def to_json(self) -> dict[str, Any]:
        """The job with the API's field names (for ``--json``)."""
        return self._keyed_json("imageversionid", self.imageversionid)


@dataclass(frozen=True, slots=True)
class UninstallJob(_StartedJob):
    """The uninstall job a reject with ``reinstall=1`` starts, keyed by ``uninstalljobid``."""

    uninstalljobid: int = field(kw_only=True)

    def to_json(self) -> dict[str, Any]:
        """The job with the API's field names (for ``--json``)."""
        return self._keyed_json("uninstalljobid", self.uninstalljobid)


def _parse_job_fields(data: object, key: str, skip: frozenset[str]) -> tuple[int, dict[str, Any]]:
    """The job's ``key`` ID and its job fields (as keyword arguments), checked.

    ``skip`` names fields that the caller reads itself (kept out of ``extra``).
    """
    if not isinstance(data, dict):
        raise InvalidResponse(f"expected a job object, got {_type_name(data)}")
    jobid = _read_int(data, key, optional=False)
    assert jobid is not None
    state_id = _read_int(data, "jobstateid", optional=True)
    state: JobState | None = None
    if state_id is not None:
        try:
            state = JobState(state_id)
        except ValueError:
            raise InvalidResponse(
                f"field 'jobstateid' has unknown state {state_id}", field_name="jobstateid"
            ) from None
    state_name = _read_str(data, "jobstatename", optional=True)
    if state is None and state_name is not None:
        state = JobState.from_name(state_name)
    if state_name is None:
        if state is None:
            raise InvalidResponse("field 'jobstatename' is missing", field_name="jobstatename")
        state_name = state.label
    failed_flag = _read_int(data, "jobfailed", optional=True)
    if failed_flag not in (None, 0, 1):
        raise InvalidResponse(
            f"field 'jobfailed' must be 0 or 1, got {failed_flag}", field_name="jobfailed"
        )
    raw_progress = _read_int(data, "jobprogress", optional=True)
    progress = 0 if raw_progress is None else min(100, max(0, raw_progress))
    clamped_from = raw_progress if raw_progress is not None and raw_progress != progress else None
    created = _read_int(data, "jobcreated", optional=True)
    updated = _read_int(data, "jobupdated", optional=True)
    extra = {
        name: value
        for name, value in data.items()
        if name != key and name not in _KNOWN_JOB_FIELDS and name not in skip
    }
    error = _read_str(data, "joberror", optional=True)
    return jobid, {
        "state": state,
        "state_name": state_name,
        "progress": progress,
        "created": created or 0,
        "updated": updated or created or 0,
        "failed": failed_flag == 1 or state is JobState.FAILED,
        "start": _read_int(data, "jobstart", optional=True),
        "eta": _read_int(data, "jobeta", optional=True),
        "error": error if error else None,
        "progress_clamped_from": clamped_from,
        "extra": extra,
    }


def parse_job(data: object) -> DiffJob:
    """Parse a job object (status, retry or create response) into a :class:`DiffJob`."""
    diffid, fields = _parse_job_fields(data, "diffid", _DIFF_INFO_FIELDS)
    assert isinstance(data, dict)
    return DiffJob(diffid=diffid, **fields, info=parse_diff_info(data))


_LINKED_FIELDS: Final = frozenset({"diffid", "success"})


def _read_success(data: Mapping[str, Any]) -> bool | None:
    value = data.get("success")
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise InvalidResponse(
        f"field 'success' must be a boolean, got {_type_name(value)}", field_name="success"
    )


def _linked_job_fields(data: object, key: str) -> dict[str, Any]:
    """A job that an action on a diff started, keyed by ``key``: its fields as keyword
    arguments (the ID, the job fields, the diff it belongs to and its success)."""
    jobid, fields = _parse_job_fields(data, key, _LINKED_FIELDS)
    assert isinstance(data, dict)
    return {
        key: jobid,
        **fields,
        "diffid": _read_int(data, "diffid", optional=True),
        "success": _read_success(data),
    }


def parse_version_job(data: object) -> VersionJob:
    """Parse an image-version job (``imageversion/create`` or its status)."""
    return VersionJob(**_linked_job_fields(data, "imageversionid"))


def parse_uninstall_job(data: object) -> UninstallJob:
    """Parse the uninstall job of a reject with ``reinstall=1``."""
    return UninstallJob(**_linked_job_fields(data, "uninstalljobid"))
