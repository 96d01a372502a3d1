from __future__ import annotations

import pytest

from reclaim.claims.schemas import Provider
from reclaim.denials.autofix import (
    AutoFixError,
    DataNotOnFile,
    EncounterRecord,
    ModifierRule,
    ProviderDirectory,
    apply_auto_fix,
    facts_on_file,
)
from reclaim.denials.detect import detect_denials
from reclaim.denials.routing import RouteDecision, route_denial

BILLING_NPI = "1234567893"  # the billing NPI of conftest.claim_doc
RENDERING = {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"}
PATEL = Provider(**RENDERING)
KIM = Provider(npi="1679576722", first_name="Sue", last_name="Kim")
DIRECTORY = ProviderDirectory(
    providers={PATEL.npi: PATEL, KIM.npi: KIM},
    rendering_by_billing_npi={BILLING_NPI: [PATEL.npi]},
)
GROUP_DIRECTORY = ProviderDirectory(
    providers={PATEL.npi: PATEL, KIM.npi: KIM},
    rendering_by_billing_npi={BILLING_NPI: [PATEL.npi, KIM.npi]},
)
REFERRER = Provider(npi="1104925451", first_name="Ada", last_name="Osei")
ENCOUNTER = EncounterRecord(
    place_of_service="22", referring_provider=REFERRER, ordering_provider=KIM
)
RULES = [
    ModifierRule(payer_id="SANDBOX", procedure="93000", modifier="59"),
    ModifierRule(payer_id="SANDBOX", procedure="99214", modifier="XS", replaces=["59"]),
    ModifierRule(payer_id="OTHER", procedure="99214", modifier="GT"),
]


def _fix(doc, denial, table, *, directory=DIRECTORY, encounter=ENCOUNTER, rules=RULES):
    context = facts_on_file(
        doc, denial, directory=directory, encounter=encounter, modifier_rules=rules
    )
    decision = route_denial(denial, table=table, context=context)
    assert decision.route == "auto_fix", decision.reason
    return apply_auto_fix(
        doc, denial, decision, directory=directory, encounter=encounter, modifier_rules=rules
    )


def test_rendering_provider_from_the_directory_by_billing_npi(table, make_doc, make_finding):
    doc = make_doc()
    result = _fix(doc, make_finding("CO-16", "N290"), table)
    assert result.document.rendering_provider == PATEL
    assert result.kind == "rendering_provider"
    assert result.new_original is False
    assert result.changes == [
        "rendering provider none -> NPI 1245319599 (Patel, Raj) from directory"
    ]
    assert doc.rendering_provider is None  # the original is untouched


def test_rendering_provider_with_a_wrong_npi_matched_by_name(table, make_doc, make_finding):
    doc = make_doc(
        rendering_provider={"npi": "1111111111", "first_name": "sue", "last_name": "KIM"}
    )
    result = _fix(doc, make_finding("CO-16", "N290"), table, directory=GROUP_DIRECTORY)
    assert result.document.rendering_provider == KIM


@pytest.mark.parametrize(
    ("rendering", "directory"),
    [
        (None, ProviderDirectory()),  # nothing on file
        (None, GROUP_DIRECTORY),  # several providers and no name to choose by
        (RENDERING, DIRECTORY),  # the claim already has the directory's provider
    ],
    ids=["empty-directory", "ambiguous-group", "nothing-to-change"],
)
def test_rendering_provider_not_on_file(table, make_doc, make_finding, rendering, directory):
    doc = make_doc(rendering_provider=rendering)
    denial = make_finding("CO-16", "N290")
    context = facts_on_file(doc, denial, directory=directory)
    assert context.rendering_provider_on_file is False
    assert route_denial(denial, table=table, context=context).route == "front_desk"
    forced = RouteDecision(
        route="auto_fix",
        reason="forced",
        rule_id="co-16-n290",
        auto_fix_kind="rendering_provider",
        table_version="v",
    )
    with pytest.raises(DataNotOnFile, match="rendering_provider"):
        apply_auto_fix(doc, denial, forced, directory=directory)


@pytest.mark.parametrize("codes", [("CO-16", "M77"), ("CO-5",)])
def test_place_of_service_from_the_encounter(table, make_doc, make_finding, codes):
    result = _fix(make_doc(), make_finding(*codes), table)
    assert result.document.place_of_service == "22"
    assert result.changes == ["place of service 11 -> 22 from the encounter"]


@pytest.mark.parametrize(
    "encounter",
    [None, EncounterRecord(place_of_service="11"), EncounterRecord(place_of_service="1")],
)
def test_place_of_service_missing_or_unchanged(table, make_doc, make_finding, encounter):
    doc, denial = make_doc(), make_finding("CO-5")
    context = facts_on_file(doc, denial, directory=DIRECTORY, encounter=encounter)
    assert route_denial(denial, table=table, context=context).route == "coder"
    forced = RouteDecision(
        route="auto_fix",
        reason="forced",
        rule_id="co-5",
        auto_fix_kind="place_of_service",
        table_version="v",
    )
    with pytest.raises(DataNotOnFile, match="place of service"):
        apply_auto_fix(doc, denial, forced, directory=DIRECTORY, encounter=encounter)


@pytest.mark.parametrize(("rarc", "expected"), [("N286", REFERRER), ("N265", KIM)])
def test_referring_and_ordering_provider(table, make_doc, make_finding, rarc, expected):
    result = _fix(make_doc(), make_finding("CO-16", rarc), table)
    assert result.document.referring_provider == expected


def test_referring_provider_not_on_file(make_doc, make_finding):
    context = facts_on_file(
        make_doc(),
        make_finding("CO-16", "N286"),
        directory=DIRECTORY,
        encounter=EncounterRecord(place_of_service="22"),
    )
    assert context.referring_provider_on_file is False
    assert context.place_of_service_on_file is True


def test_modifier_rule_on_the_denied_line(table, make_doc, make_finding):
    denial = make_finding("CO-4", level="line", procedure="93000", line_index=1)
    result = _fix(make_doc(), denial, table)
    assert [line.modifiers for line in result.document.lines] == [["25"], ["59"]]
    assert result.changes == ["lines[1] 93000 modifiers [] -> ['59'] by payer rule"]


def test_modifier_rule_replaces_an_invalid_modifier(table, make_doc, make_finding):
    doc = make_doc(lines=[{"procedure": "99214", "modifiers": ["59", "25"], "charge": "150.00"}])
    denial = make_finding("CO-182", level="line", procedure="99214", line_index=0)
    result = _fix(doc, denial, table)
    assert result.document.lines[0].modifiers == ["XS", "25"]


@pytest.mark.parametrize(
    ("rules", "modifiers"),
    [
        ([], []),
        ([ModifierRule(payer_id="OTHER", procedure="93000", modifier="59")], []),
        ([ModifierRule(payer_id="SANDBOX", procedure="93000", modifier="59")], ["59"]),
    ],
    ids=["no-rules", "other-payer", "already-has-it"],
)
def test_modifier_rule_not_on_file(table, make_doc, make_finding, rules, modifiers):
    doc = make_doc(lines=[{"procedure": "93000", "modifiers": modifiers, "charge": "60.00"}])
    denial = make_finding("CO-4", level="line", procedure="93000", line_index=0)
    context = facts_on_file(doc, denial, directory=DIRECTORY, modifier_rules=rules)
    assert route_denial(denial, table=table, context=context).route == "coder"
    forced = RouteDecision(
        route="auto_fix",
        reason="forced",
        rule_id="co-4",
        auto_fix_kind="modifier",
        table_version="v",
    )
    with pytest.raises(DataNotOnFile, match="no payer rule"):
        apply_auto_fix(doc, denial, forced, directory=DIRECTORY, modifier_rules=rules)


def test_ma130_makes_a_new_original_claim(table, make_doc, make_finding):
    result = _fix(make_doc(), make_finding("CO-16", "N290", "MA130"), table)
    assert result.new_original is True
    assert result.document.rendering_provider == PATEL
    assert any("new original" in change for change in result.changes)


def test_only_auto_fix_decisions_are_applied(make_doc, make_finding):
    decision = RouteDecision(route="coder", reason="r", rule_id="co-11", table_version="v")
    with pytest.raises(AutoFixError, match="not to an auto-fix"):
        apply_auto_fix(make_doc(), make_finding("CO-11"), decision, directory=DIRECTORY)


def test_from_835_to_corrected_claim(table, make_doc, make_payment):
    """Detection, facts on file, routing and the fix, as the activity chains them."""
    payment = make_payment(
        status="4",
        charge="210",
        claim_codes=(("CO-16", "210"),),
        remarks=("N290",),
    )
    [denial] = detect_denials(payment, attempt=1)
    doc = make_doc()
    result = _fix(doc, denial, table)
    assert result.document.rendering_provider == PATEL
    assert result.document.lines == doc.lines


def test_a_line_the_claim_does_not_have(make_doc, make_finding):
    denial = make_finding("CO-4", level="line", procedure="80053", line_index=0)
    assert (
        facts_on_file(
            make_doc(), denial, directory=DIRECTORY, modifier_rules=RULES
        ).modifier_rule_on_file
        is False
    )
    forced = RouteDecision(
        route="auto_fix",
        reason="forced",
        rule_id="co-4",
        auto_fix_kind="modifier",
        table_version="v",
    )
    with pytest.raises(DataNotOnFile, match="80053 is not on the claim"):
        apply_auto_fix(make_doc(), denial, forced, directory=DIRECTORY, modifier_rules=RULES)
