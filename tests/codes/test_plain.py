"""Plain words: a group explained by what it means for this denial, routes for people."""

import pytest

from reclaim.codes.carc import CARCS, plain_denial
from reclaim.codes.plain import (
    CONDITION_WORDS,
    ROUTE_WORDS,
    condition_words,
    explain_route,
    group_meaning,
)
from reclaim.denials.routing import CONTEXT_FLAGS, ROUTES


@pytest.mark.parametrize(
    ("group", "carc", "expected"),
    [
        ("CO", "16", "fix and resend"),
        ("CO", "11", "fix and resend"),
        ("CO", "151", "fix and resend"),
        ("CO", "45", "the provider absorbs it"),
        ("CO", "253", "the provider absorbs it"),
        ("CO", "50", "appeal with the medical record"),
        ("CO", "29", "filed too late"),
        ("CO", "18", "do not resend"),
        ("CO", "97", "add a modifier"),
        ("CO", "27", "check the patient's plan"),
        ("CO", "22", "another payer comes first"),
        ("CO", "197", "authorization or referral missing"),
        ("PR", "1", "the patient owes it"),
        ("PR", "96", "the patient may be billed"),
        ("OA", "23", "already settled by an earlier payer"),
        ("OA", "16", "fix and resend"),
        ("PI", "45", "the payer's own reduction"),
        ("PI", "16", "fix and resend"),
        ("CR", "45", "corrects or reverses an earlier claim"),
    ],
)
def test_group_means_what_it_means_for_this_denial(group, carc, expected):
    assert expected in group_meaning(group, CARCS[carc].category)


def test_a_fixable_co_denial_is_never_called_absorbed():
    for code in ("16", "11", "4", "5", "146", "151", "206", "185"):
        sentence = plain_denial("CO", code)
        assert "absorb" not in sentence, sentence
        assert "fix and resend" in sentence or "modifier" in sentence


def test_every_carc_category_has_words_for_every_group():
    for info in CARCS.values():
        for group in ("CO", "PR", "OA", "PI", "CR"):
            words = group_meaning(group, info.category)
            assert words, (group, info.code)
            assert "_" not in words, (group, info.code)


def test_unknown_group_is_refused():
    with pytest.raises(ValueError, match="'ZZ'"):
        group_meaning("ZZ", "coding")


def test_every_route_and_condition_has_words():
    assert set(ROUTE_WORDS) == set(ROUTES)
    assert set(CONDITION_WORDS) == set(CONTEXT_FLAGS)
    for flag in CONTEXT_FLAGS:
        assert condition_words(flag, True) != condition_words(flag, False)
        assert "_" not in condition_words(flag, False)


def test_route_explanations_are_for_people():
    text = explain_route("CO-16/N290", route="front_desk", note="missing data",
                         condition="rendering_provider_on_file", met=False, rule_id="co-16-n290")
    assert text == ("CO-16/N290 (missing data): the rendering provider is not in the provider "
                    "directory, so the front desk corrects the claim (routing rule co-16-n290).")
    assert "_on_file" not in text
    default = explain_route("CO-299", route="coder", default=True)
    assert default == ("CO-299: no routing rule names these codes, so a coder corrects the "
                       "claim (the table's default).")


def test_every_row_of_the_default_table_is_explained_for_people() -> None:
    from decimal import Decimal

    from reclaim.denials.detect import DenialFinding
    from reclaim.denials.routing import RoutingContext, load_default_table, route_denial

    table = load_default_table()
    for rule in table.rules:
        for flags in (True, False):
            context = RoutingContext(**{flag: flags for flag in CONTEXT_FLAGS})
            denial = DenialFinding(
                level="claim", group=rule.group if rule.group != "*" else "CO",
                carc=rule.carc if rule.carc != "*" else "16",
                rarcs=[rule.rarc] if rule.rarc != "*" else [], amount=Decimal("10"),
                paid=Decimal("0"), attempt=1, patient_control_number="RC1-1", reasoning="")
            reason = route_denial(denial, table=table, context=context).reason
            assert "_on_file" not in reason, reason
            assert "timely_filing_proof" not in reason, reason
            assert not any(f" {r} " in f" {reason} " for r in ("front_desk", "auto_fix",
                                                                "write_off")), reason
            assert reason.endswith("."), reason


def test_stored_reasons_from_before_are_rewritten_for_people() -> None:
    from reclaim.codes.plain import route_reason_words

    old = ("CO-16/N290 matched rule 'co-16-n290' (rendering provider); not "
           "rendering_provider_on_file, so front_desk; attempt 3 reached the cap of 3")
    assert route_reason_words(old) == (
        "CO-16/N290 (rendering provider): the rendering provider is not in the provider "
        "directory, so the front desk corrects the claim (routing rule co-16-n290). This was "
        "attempt 3 of the 3 the payer accepts, so a manager decides.")
    assert route_reason_words("CO-299 matched no rule; table default coder") == (
        "CO-299: no routing rule names these codes, so a coder corrects the claim (the "
        "table's default).")
    assert route_reason_words("already in words.") == "already in words."
    assert route_reason_words(None) == ""
