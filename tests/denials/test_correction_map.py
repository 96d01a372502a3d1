"""The correction map (reclaim/denials/correction_map.toml) against the routing table and the
claim document: every route that ends with a person has the fields that person needs, and every
field it names is a field of the claim."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from contracts.enums import Queue
from reclaim.claims.fields import claim_fields, field_paths, fields_of, fields_under
from reclaim.claims.schemas import ClaimDocument, ServiceLine
from reclaim.denials.corrections import (
    DEFAULT_MAP_PATH,
    CorrectionMapError,
    focus_for,
    generic_path,
    load_default_map,
    parse_map,
)
from reclaim.denials.routing import load_default_table
from reclaim.scrub import RULES

PERSON_ROUTES = {"coder", "front_desk", "appeal"}
TABLE = load_default_table()
CMAP = load_default_map()


def _people_rules() -> list[Any]:
    return [r for r in TABLE.rules
            if r.route in PERSON_ROUTES or (r.fallback is not None and r.fallback in PERSON_ROUTES)]


def test_the_default_table_has_rows_that_end_with_a_person() -> None:
    assert len(_people_rules()) > 30


@pytest.mark.parametrize("rule", _people_rules(), ids=lambda r: r.id)
def test_every_route_that_ends_with_a_person_has_its_fields(rule: Any) -> None:
    group = "CO" if rule.group == "*" else rule.group
    carc = "16" if rule.carc == "*" else rule.carc
    rarcs = [] if rule.rarc == "*" else [rule.rarc]
    entry = CMAP.for_denial(group, carc, rarcs)
    assert entry is not None, f"routing rule {rule.id} ({rule.note}) has no correction map entry"
    # The entry is as specific as the rule: a RARC rule gets the RARC's fields, not its CARC's.
    assert entry.specificity >= rule.specificity or rule.rarc == "*"
    assert entry.fields
    for path in entry.fields:
        assert fields_under(path), f"{rule.id}: {path} names no field of the claim document"


def test_every_field_the_map_names_is_a_field_of_the_claim_document() -> None:
    entries = [CMAP.default, *CMAP.denials, *CMAP.rejections, *CMAP.findings]
    for entry in entries:
        for path in entry.fields:
            assert path in field_paths(), path
            assert fields_under(path), path


def test_every_scrub_rule_has_its_fields() -> None:
    assert {f.rule for f in CMAP.findings} == set(RULES)


@pytest.mark.parametrize(("code", "queue", "first"), [
    ("A7:33", Queue.front_desk, "patient.member_id"),      # the reported one: member id
    ("A7:33:IL", Queue.front_desk, "patient.member_id"),
    ("A7:116:PR", Queue.front_desk, "payer_id"),           # the sandbox's wrong payer
    ("A7:562:85", Queue.front_desk, "billing_provider.npi"),
    ("A7:562:82", Queue.front_desk, "rendering_provider"),
    ("A7:255", Queue.coder, "diagnoses"),
    ("A7:454", Queue.coder, "lines[].procedure"),
])
def test_a_rejection_goes_to_who_can_fix_it(code: str, queue: Queue, first: str) -> None:
    entry = CMAP.for_rejection(code)
    assert entry is not None
    assert entry.queue == queue
    assert entry.fields[0] == first


def test_an_unknown_rejection_goes_to_the_coder() -> None:
    assert CMAP.for_rejection("A7:99999") is None
    assert CMAP.rejection_queue("A7:99999") == Queue.coder
    assert CMAP.rejection_queue(None) == Queue.coder


@pytest.mark.parametrize(("denial", "first"), [
    ({"group": "CO", "carc": "16", "rarcs": ["N290"]}, "rendering_provider"),
    ({"group": "CO", "carc": "16", "rarcs": ["M77"]}, "place_of_service"),
    ({"group": "CO", "carc": "16", "rarcs": []}, "patient.member_id"),
    ({"group": "CO", "carc": "11", "rarcs": []}, "diagnoses"),
    ({"group": "CO", "carc": "4", "rarcs": []}, "lines[].modifiers"),
    ({"group": "CO", "carc": "151", "rarcs": ["N362"]}, "lines[].units"),
    ({"group": "CO", "carc": "197", "rarcs": []}, "prior_authorization"),
    ({"group": "CO", "carc": "27", "rarcs": ["N382"]}, "patient.member_id"),
    ({"group": "CO", "carc": "50", "rarcs": ["M76"]}, "diagnoses"),
])
def test_the_focus_of_a_denial_item(denial: dict[str, Any], first: str) -> None:
    focus = focus_for({"denials": [{**denial, "plain": "the payer's words"}]})
    assert focus.fields[0] == first
    assert focus.words[0].endswith("the payer's words")
    assert focus.hints


def test_the_focus_of_a_rejection_and_of_scrub_findings() -> None:
    rejected = focus_for({"rejection": {"code": "A7:33", "message": "Subscriber id mismatch"}})
    assert rejected.fields[0] == "patient.member_id"
    assert rejected.words == ["A7:33 Subscriber id mismatch"]
    found = focus_for({"findings": [{"rule": "modifiers", "field": "lines[1].modifiers",
                                     "message": "bad modifier"}]})
    assert found.fields == ["lines[].modifiers"]
    assert "bad modifier" in found.words[0]
    assert focus_for({}).fields == CMAP.default.fields


def test_finding_paths_as_map_paths() -> None:
    assert generic_path("lines[0].modifiers") == "lines[].modifiers"
    assert generic_path("lines.2.units") == "lines[].units"
    assert generic_path("diagnoses[1]") == "diagnoses"
    assert generic_path("patient.member_id") == "patient.member_id"


def _shipped() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_MAP_PATH.read_text())


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["denial"][0]["fields"].append("patient.favourite_colour"),
     "'patient.favourite_colour' is not a field of the claim document"),
    (lambda d: d["finding"].append({"rule": "no_such_edit", "fields": ["diagnoses"]}),
     "no scrub rule has this name"),
    (lambda d: d["rejection"][0].update(queue="appeal"), "does not correct claims"),
    (lambda d: d["denial"].append(dict(d["denial"][0], id="again")), "is mapped twice"),
    (lambda d: d["denial"][0].update(group="XX"), "group 'XX'"),
    (lambda d: d["denial"][0].update(fields=[]), "at least 1 item"),
    (lambda d: d.pop("default"), "[default]"),
])
def test_a_mistake_in_the_map_is_named_at_start(change: Any, problem: str) -> None:
    data = _shipped()
    change(data)
    with pytest.raises(CorrectionMapError) as caught:
        parse_map(data, source="correction_map.toml")
    assert problem in str(caught.value)


def test_the_shipped_map_loads() -> None:
    assert parse_map(_shipped()).denials == CMAP.denials


# ---------------------------------------------------------------- fields from the schema


class _LineWithNdc(ServiceLine):
    ndc: str | None = None


class _ClaimWithReferral(ClaimDocument):
    referral_number: str | None = None
    lines: list[_LineWithNdc]  # type: ignore[assignment]


def test_a_field_added_to_the_claim_document_is_one_more_form_field() -> None:
    # What another branch adds to reclaim/claims/schemas.py needs no form code of its own.
    paths = [s.path for s in fields_of(_ClaimWithReferral)]
    assert "referral_number" in paths
    assert "lines[].ndc" in paths
    assert {s.path for s in claim_fields()} | {"referral_number", "lines[].ndc"} == set(paths)


def test_the_fields_of_the_claim_document() -> None:
    by_path = {s.path: s for s in claim_fields()}
    assert by_path["patient.member_id"].required
    assert by_path["rendering_provider.npi"].optional_parent == "rendering_provider"
    assert by_path["lines[].units"].required  # a blank is a finding, not a silent 1
    assert not by_path["prior_authorization"].required
    assert by_path["patient.sex"].choices == ("F", "M", "U")
    assert by_path["service_date"].kind == "date"
    assert by_path["lines[].modifiers"].kind == "words"
    assert by_path["diagnoses"].kind == "list"
    assert by_path["lines[].charge"].label == "Charge ($)"
    assert by_path["patient.address.zip"].label == "Patient address ZIP"
