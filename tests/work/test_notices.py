from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.work.notices import (
    EMAIL_KINDS,
    TEMPLATES_DIR,
    PhiLeakError,
    render_appeal_letter,
    render_email,
)

PATIENT = {
    "first_name": "Annabel",
    "last_name": "Quixley",
    "birth_date": "1960-04-02",
    "member_id": "W987654321",
    "sex": "F",
}
FORBIDDEN = ["Annabel", "Quixley", "W987654321", "1960-04-02"]


def _item(**overrides):
    item = {
        "work_item_id": "WI-42",
        "claim_id": "CLM-1001",
        "queue": "front_desk",
        "patient": PATIENT,
        "denials": [{"group": "CO", "carc": "16", "rarcs": ["N290"]}],
        "due": date(2026, 12, 1),
        "link": "http://127.0.0.1:8000/work/WI-42",
        "assignee_name": "Dana Coder",
        "note": "Called Annabel Quixley, member W987654321; Quixley will send the card.",
    }
    item.update(overrides)
    return item


CONTEXTS = {
    "new_work_item": {**_item(), "recipient_name": "Dana Coder"},
    "reminder": {**_item(), "recipient_name": "Dana Coder"},
    "escalation": {
        **_item(),
        "recipient_name": "Morgan Manager",
        "reason": "open past its SLA (Annabel Quixley's claim)",
        "overdue_since": date(2026, 12, 2),
    },
    "daily_digest": {
        "recipient_name": "Dana Coder",
        "day": date(2026, 11, 30),
        "queue_link": "http://127.0.0.1:8000/work",
        "items": [
            _item(),
            _item(
                work_item_id="WI-43",
                claim_id="CLM-1002",
                denials=[{"group": "CO", "carc": "11"}],
                patient={
                    **PATIENT,
                    "first_name": "Bertil",
                    "last_name": "Zanetti",
                    "member_id": "Z555",
                },
            ),
        ],
    },
}


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_email_has_what_the_assignee_needs_and_no_phi(kind):
    mail = render_email(kind, CONTEXTS[kind])
    for part in (mail.subject, mail.text, mail.html):
        for secret in [*FORBIDDEN, "Bertil", "Zanetti", "Z555"]:
            assert secret.lower() not in part.lower(), (kind, secret)
    for part in (mail.text, mail.html):
        assert "CLM-1001" in part
        assert "A.Q." in part
        assert "CO-16 claim lacks information or has a billing error" in part
        assert "N290 rendering provider NPI missing or invalid" in part
        assert "http://127.0.0.1:8000/work" in part
        assert "2026-12-01" in part


def test_free_text_is_redacted():
    mail = render_email("new_work_item", CONTEXTS["new_work_item"])
    assert "Called [redacted], member [redacted]; [redacted] will send the card." in mail.text


def test_digest_lists_every_open_item():
    mail = render_email("daily_digest", CONTEXTS["daily_digest"])
    assert mail.subject == "Reclaim: 2 open work items for 2026-11-30"
    for needle in ("WI-42", "WI-43", "CLM-1002", "B.Z.", "CO-11 diagnosis does not support"):
        assert needle in mail.text
        assert needle in mail.html


def test_empty_digest():
    mail = render_email("daily_digest", {**CONTEXTS["daily_digest"], "items": []})
    assert "Nothing open" in mail.text


def test_html_is_escaped():
    mail = render_email("reminder", {**CONTEXTS["reminder"], "recipient_name": "<b>Dana</b>"})
    assert "&lt;b&gt;Dana&lt;/b&gt;" in mail.html
    assert "<b>Dana</b>" in mail.text


def test_guard_refuses_a_template_that_leaks(tmp_path: Path):
    folder = tmp_path / "email"
    folder.mkdir()
    for name in ("_layout.html", "_item.html", "_item.txt", "reminder.html"):
        (folder / name).write_text((TEMPLATES_DIR / "email" / name).read_text())
    (folder / "reminder.txt").write_text("Dear {{ recipient_name }}\n")
    leaking = {**CONTEXTS["reminder"], "recipient_name": "Quixley, Annabel"}
    with pytest.raises(PhiLeakError):
        render_email("reminder", leaking, templates_dir=tmp_path)


def test_bad_kind_and_bad_context():
    with pytest.raises(ValueError, match="unknown email kind"):
        render_email("birthday", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="claim_id"):
        render_email("reminder", {k: v for k, v in CONTEXTS["reminder"].items() if k != "claim_id"})


# ---------------------------------------------------------------- appeal letter

LETTER = {
    "letter_date": date(2026, 12, 10),
    "payer": {"name": "Sandbox Health Plan", "address_lines": ["PO Box 1", "Springfield, IL"]},
    "provider": {"name": "Springfield Family Medicine", "address_lines": ["9 Oak Ave"]},
    "provider_npi": "1234567893",
    "provider_tax_id": "371234567",
    "patient_name": "Annabel Quixley",
    "patient_birth_date": date(1960, 4, 2),
    "member_id": "W987654321",
    "claim_id": "CLM-1001",
    "payer_claim_control_number": "PAYER-CCN-9",
    "service_date": date(2026, 11, 2),
    "billed_amount": Decimal("210.00"),
    "denied_amount": Decimal("60.00"),
    "remittance_date": date(2026, 12, 1),
    "denials": [{"group": "CO", "carc": "50", "rarcs": ["N115"]}],
    "argument": "The ECG was ordered for new chest pain.\n\nSee the attached note <script>.",
    "enclosures": ["Progress note of 2026-11-02"],
    "appeal_deadline": date(2027, 3, 31),
    "signer_name": "Dana Coder",
    "signer_title": "Billing specialist",
}


def test_appeal_letter_has_codes_labels_argument_and_deadline():
    html = render_appeal_letter(LETTER)
    assert "CO-50" in html
    assert "payer does not consider it medically necessary" in html
    assert "N115: decided under a Local Coverage Determination (LCD)" in html
    assert "2027-03-31" in html
    assert "PAYER-CCN-9" in html
    assert "W987654321" in html
    assert "$210.00" in html
    assert "$60.00" in html
    assert len(re.findall(r"<p>The ECG was ordered|<p>See the attached", html)) == 2
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "@media print" in html


def test_appeal_letter_needs_denials_and_a_deadline():
    with pytest.raises(ValueError, match="appeal_deadline"):
        render_appeal_letter({k: v for k, v in LETTER.items() if k != "appeal_deadline"})
    with pytest.raises(ValueError, match="denials"):
        render_appeal_letter({**LETTER, "denials": []})


def test_a_denial_items_email_states_the_denial_once():
    """A denial item's title and note carry the denial's text (the work queue shows them
    without the list); the email lists it once, under Denial."""
    denial = render_email("new_work_item", {
        **_item(note=None, summary="x"), "recipient_name": "Dana Coder"}).text
    said = re.search(r"Denial:\n\s+- (.+)", denial)
    assert said is not None
    plain = said.group(1).strip()
    item = _item(summary=f"Claim CLM-1001: denied — {plain[:40]}", note=plain,
                 denials=[{"group": "CO", "carc": "16", "rarcs": ["N290"]},
                          {"group": "CO", "carc": "16", "rarcs": ["N290"]}])
    for kind in ("new_work_item", "reminder"):
        mail = render_email(kind, {**item, "recipient_name": "Dana Coder"})
        assert mail.text.count(plain) == 1, mail.text
        assert mail.html.count(plain) == 1
        assert "What:     Claim CLM-1001: denied\n" in mail.text
        assert "Note:" not in mail.text
    # A note of the assignee's own, and a summary that says something else, stay.
    own = _item(summary="Claim CLM-1001: denied — call the patient first",
                note="Left a voicemail on Tuesday.")
    mail = render_email("new_work_item", {**own, "recipient_name": "Dana Coder"})
    assert "Claim CLM-1001: denied — call the patient first" in mail.text
    assert "Note:     Left a voicemail on Tuesday." in mail.text
    assert mail.text.count(plain) == 1
