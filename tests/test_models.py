"""Property tests for the tolerant-but-strict job parser and the diff ID readers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.ids import MAX_DIFF_ID, InvalidDiffId, parse_diff_id, parse_id_list
from tui.domain.jobs import (
    InvalidResponse,
    JobState,
    parse_job,
    parse_uninstall_job,
    parse_version_job,
)
from tui.domain.watch_entry import LastStatus

INT_FIELDS = ("diffid", "jobcreated", "jobupdated", "jobeta", "jobstart", "jobprogress")
OPTIONAL_FIELDS = ("joberror", "jobeta", "jobstart")

ids = st.integers(min_value=1, max_value=MAX_DIFF_ID)
times = st.integers(min_value=0, max_value=4_000_000_000)


@st.composite
def job_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed job object as the documentation describes it."""
    state = draw(st.sampled_from(list(JobState)))
    return {
        "diffid": draw(ids),
        "jobcreated": draw(times),
        "joberror": draw(st.one_of(st.none(), st.text(max_size=40))),
        "jobeta": draw(st.one_of(st.none(), times)),
        "jobfailed": 1 if state is JobState.FAILED else 0,
        "jobprogress": draw(st.integers(0, 100)),
        "jobstart": draw(st.one_of(st.none(), times.map(str))),
        "jobstateid": int(state),
        "jobstatename": state.label,
        "jobupdated": draw(times),
    }


def as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


@given(job_objects())
def test_well_formed_job_roundtrips(data: dict[str, Any]) -> None:
    job = parse_job(data)
    assert job.diffid == data["diffid"]
    assert job.state is JobState(data["jobstateid"])
    assert job.progress == data["jobprogress"]
    assert job.progress_clamped_from is None
    assert job.start == (None if data["jobstart"] is None else int(data["jobstart"]))
    out = job.to_json()
    assert out["diffid"] == data["diffid"]
    assert out["jobstateid"] == data["jobstateid"]


@given(job_objects(), st.sets(st.sampled_from(INT_FIELDS)))
def test_integers_sent_as_decimal_strings_are_accepted(
    data: dict[str, Any], as_strings: set[str]
) -> None:
    plain_job = parse_job(data)
    texty = {k: (as_text(v) if k in as_strings else v) for k, v in data.items()}
    assert parse_job(texty) == plain_job


@given(job_objects(), st.sets(st.sampled_from(OPTIONAL_FIELDS)))
def test_null_optionals_read_as_absent(data: dict[str, Any], nulled: set[str]) -> None:
    for name in nulled:
        data[name] = None
    job = parse_job(data)
    for name, attr in (("joberror", "error"), ("jobeta", "eta"), ("jobstart", "start")):
        if name in nulled:
            assert getattr(job, attr) is None


@given(job_objects(), st.integers(min_value=-(10**6), max_value=10**6))
def test_progress_is_clamped_and_the_clamp_is_noted(data: dict[str, Any], progress: int) -> None:
    data["jobprogress"] = progress
    job = parse_job(data)
    assert 0 <= job.progress <= 100
    if 0 <= progress <= 100:
        assert job.progress == progress
        assert job.progress_clamped_from is None
    else:
        assert job.progress == (0 if progress < 0 else 100)
        assert job.progress_clamped_from == progress


bad_int_values = st.one_of(
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.floats(allow_nan=True).filter(lambda f: not f.is_integer()),
    st.text(max_size=10).filter(lambda s: not s.strip().lstrip("+-").isdigit() and s.strip()),
)


@given(job_objects(), st.sampled_from(INT_FIELDS), bad_int_values)
def test_wrong_types_raise_naming_the_field(data: dict[str, Any], name: str, value: object) -> None:
    data[name] = value
    with pytest.raises(InvalidResponse) as caught:
        parse_job(data)
    assert caught.value.field_name == name
    assert name in str(caught.value)


@given(job_objects(), st.sampled_from(["jobstatename", "joberror"]))
def test_non_text_for_a_string_field_names_the_field(data: dict[str, Any], name: str) -> None:
    data[name] = ["not", "text"]
    with pytest.raises(InvalidResponse) as caught:
        parse_job(data)
    assert caught.value.field_name == name


@given(job_objects(), st.integers().filter(lambda n: n not in range(1, 7)))
def test_unknown_state_id_is_rejected(data: dict[str, Any], state_id: int) -> None:
    data["jobstateid"] = state_id
    with pytest.raises(InvalidResponse) as caught:
        parse_job(data)
    assert caught.value.field_name == "jobstateid"


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_non_objects_are_rejected(value: object) -> None:
    with pytest.raises(InvalidResponse):
        parse_job(value)


def test_missing_diffid_is_named() -> None:
    with pytest.raises(InvalidResponse) as caught:
        parse_job({"jobstatename": "Running"})
    assert caught.value.field_name == "diffid"


# --- diff IDs ----------------------------------------------------------------------


@given(ids, st.sampled_from(["", " ", "\t"]))
def test_valid_ids_roundtrip(value: int, pad: str) -> None:
    assert parse_diff_id(f"{pad}{value}{pad}") == value


@pytest.mark.parametrize(
    "token", ["abc", "-5", "0", "1e3", "9223372036854775808", "", "12a", "+5", "٣", "1.0"]
)
def test_invalid_ids_are_rejected_naming_the_token(token: str) -> None:
    with pytest.raises(InvalidDiffId) as caught:
        parse_diff_id(token)
    assert caught.value.token == token
    assert repr(token) in str(caught.value)


@given(st.integers(max_value=0) | st.integers(min_value=MAX_DIFF_ID + 1))
def test_out_of_range_numbers_are_rejected(value: int) -> None:
    with pytest.raises(InvalidDiffId):
        parse_diff_id(str(value))


token_text = st.text(
    alphabet=st.characters(
        blacklist_characters=" \t\n\r,;#\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"
    ),
    min_size=1,
    max_size=8,
)
tokens = st.one_of(ids.map(str), token_text)


@given(st.lists(tokens, max_size=20), st.sampled_from([" ", ",", ", ", "\n", ";"]))
def test_id_list_reports_every_bad_token_with_its_position(
    items: list[str], separator: str
) -> None:
    # Only single-line tokens: splitlines() also breaks on characters like \x85.
    items = [t for t in items if len(t.splitlines()) == 1 and t.split() == [t]]
    parsed = parse_id_list(separator.join(items))
    expected_errors = []
    expected_ids: list[int] = []
    for position, token in enumerate(items, start=1):
        try:
            value = parse_diff_id(token)
        except InvalidDiffId:
            expected_errors.append((position, token))
            continue
        if value not in expected_ids:
            expected_ids.append(value)
    assert [(e.position, e.token) for e in parsed.errors] == expected_errors
    assert list(parsed.ids) == expected_ids
    for error in parsed.errors:
        assert f"#{error.position}" in str(error)
        assert repr(error.token) in str(error)


@given(st.lists(ids, max_size=20))
def test_id_list_roundtrip_keeps_order_and_drops_duplicates(values: list[int]) -> None:
    parsed = parse_id_list(", ".join(map(str, values)) + "  # a comment 123")
    assert list(parsed.ids) == list(dict.fromkeys(values))
    assert parsed.errors == ()
    assert len(parsed.duplicates) == len(values) - len(set(values))


# --- image-version and uninstall jobs: the same job fields, another key --------------------

JOB_PARSERS = {
    "imageversionid": parse_version_job,
    "uninstalljobid": parse_uninstall_job,
}


def keyed(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A diff job object turned into a ``key`` job of that diff, as accept/reject answer."""
    return {**data, key: data["diffid"] + 1, "success": True}


@given(job_objects(), st.sampled_from(sorted(JOB_PARSERS)), st.booleans())
def test_version_and_uninstall_jobs_read_the_job_fields_like_a_diff(
    data: dict[str, Any], key: str, as_strings: bool
) -> None:
    sent = keyed(data, key)
    if as_strings:
        sent = {name: as_text(value) for name, value in sent.items()}
    job = JOB_PARSERS[key](sent)
    diff = parse_job(data)
    assert (job.state, job.progress, job.eta, job.start, job.error, job.failed) == (
        diff.state,
        diff.progress,
        diff.eta,
        diff.start,
        diff.error,
        diff.failed,
    )
    assert job.diffid == data["diffid"] and job.success is True
    out = job.to_json()
    assert out[key] == data["diffid"] + 1
    assert {name: out[name] for name in diff.to_json() if name != "diffid"} == {
        name: value for name, value in diff.to_json().items() if name != "diffid"
    }
    assert "diffid" not in job.extra and "success" not in job.extra


@given(job_objects(), st.sampled_from(sorted(JOB_PARSERS)))
def test_a_job_without_its_key_is_refused_naming_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidResponse) as caught:
        JOB_PARSERS[key](data)
    assert caught.value.field_name == key
    assert key in str(caught.value)


@given(
    job_objects(),
    st.sampled_from(sorted(JOB_PARSERS)),
    st.sampled_from(["jobstateid", "jobprogress", "jobfailed", "success"]),
    st.one_of(st.text(min_size=1, alphabet="abc"), st.lists(st.integers(), max_size=2)),
)
def test_version_and_uninstall_jobs_are_as_strict_as_diffs(
    data: dict[str, Any], key: str, name: str, value: object
) -> None:
    with pytest.raises(InvalidResponse) as caught:
        JOB_PARSERS[key]({**keyed(data, key), name: value})
    assert caught.value.field_name == name


def test_a_version_status_answer_has_no_success_and_may_omit_the_diff() -> None:
    job = parse_version_job(
        {
            "imageversionid": "88",
            "jobcreated": 1,
            "jobfailed": 0,
            "jobprogress": 140,
            "jobstatename": "Running",
            "jobupdated": 2,
            "jobstateid": 4,
            "machine": "x",
        }
    )
    assert (job.imageversionid, job.diffid, job.success, job.progress) == (88, None, None, 100)
    assert job.progress_clamped_from == 140 and job.extra == {"machine": "x"}
    assert "success" not in job.to_json()


@given(st.none() | st.integers(-(2**40), 2**40))
def test_a_saved_status_state_is_the_job_state_of_its_id_or_none(state_id: int | None) -> None:
    last = LastStatus(state_id, "", 0, None, None, 0.0)
    if state_id in {int(state) for state in JobState}:
        assert last.state is JobState(state_id)
    else:
        assert last.state is None
