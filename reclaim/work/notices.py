"""Email notices and appeal letters rendered from templates/email/ and templates/letters/.

Email carries no PHI beyond the claim id and the patient's initials: callers may pass the full
patient record, but templates only ever receive initials, free text is scrubbed of the patient's
names and member id, and the rendered mail is checked once more before it is returned. The appeal
letter goes to the payer and must identify the patient, so it does carry name and member id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from reclaim.codes.carc import describe_carc, describe_group, describe_rarc, plain_denial

EmailKind = Literal["new_work_item", "reminder", "escalation", "daily_digest"]
EMAIL_KINDS: tuple[EmailKind, ...] = ("new_work_item", "reminder", "escalation", "daily_digest")
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
REDACTED = "[redacted]"


class PhiLeakError(RuntimeError):
    """Rendered mail still contains a patient's name or member id; it must not be sent."""


class _In(BaseModel):
    # Callers hand over whatever their records hold; unknown fields are dropped, never rendered.
    model_config = ConfigDict(extra="ignore")


class PatientRef(_In):
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    member_id: str | None = None

    @property
    def initials(self) -> str:
        return f"{self.first_name.strip()[0]}.{self.last_name.strip()[0]}.".upper()

    def identifiers(self) -> list[str]:
        """What must never reach an email: the full name in its usual forms and the member id."""
        first, last = self.first_name.strip(), self.last_name.strip()
        forms = [f"{first} {last}", f"{last}, {first}", f"{last} {first}", self.member_id or ""]
        return [f.strip() for f in forms if len(f.strip()) >= 2]

    def scrub_terms(self) -> list[str]:
        """Free text is stricter: a name on its own is removed too (full forms first)."""
        parts = [self.last_name.strip(), self.first_name.strip()]
        return self.identifiers() + [p for p in parts if len(p) >= 2]


class DenialCodes(_In):
    group: str
    carc: str
    rarcs: list[str] = Field(default_factory=list)

    @property
    def plain(self) -> str:
        return plain_denial(self.group, self.carc, self.rarcs)


class WorkItemRef(_In):
    work_item_id: str
    claim_id: str
    queue: str
    patient: PatientRef
    # Empty for items that are not about a denial (a scrubber correction, a follow-up).
    denials: list[DenialCodes] = Field(default_factory=list)
    summary: str | None = None
    due: date | datetime
    link: str
    assignee_name: str | None = None
    note: str | None = None


class WorkItemNotice(WorkItemRef):
    """new_work_item and reminder: to the assignee."""

    recipient_name: str


class EscalationNotice(WorkItemRef):
    """escalation: to the managers, when an item passed its SLA or a deadline."""

    recipient_name: str
    reason: str
    overdue_since: date | datetime | None = None


class DigestNotice(_In):
    """daily_digest: one coder's open items."""

    recipient_name: str
    day: date
    items: list[WorkItemRef]
    queue_link: str


class RenderedEmail(BaseModel):
    subject: str
    text: str
    html: str


_CONTEXT_MODELS: dict[str, type[_In]] = {
    "new_work_item": WorkItemNotice,
    "reminder": WorkItemNotice,
    "escalation": EscalationNotice,
    "daily_digest": DigestNotice,
}


def _fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _fmt_money(value: Decimal | str | None) -> str:
    return "" if value is None else f"${Decimal(value):,.2f}"


def _environment(templates_dir: Path, *, html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html"]) if html else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = _fmt_date
    env.filters["money"] = _fmt_money
    return env


# ---------------------------------------------------------------- PHI scrubbing


def _scrub(text: str | None, terms: Iterable[str]) -> str | None:
    if text is None:
        return None
    for secret in terms:
        text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


def _assert_no_phi(rendered: RenderedEmail, identifiers: Iterable[str]) -> None:
    for secret in identifiers:
        pattern = re.compile(rf"(?<!\w){re.escape(secret)}(?!\w)", re.IGNORECASE)
        for part in (rendered.subject, rendered.text, rendered.html):
            if pattern.search(part):
                raise PhiLeakError("rendered email contains a patient name or member id")


def _item_view(item: WorkItemRef, scrub_terms: list[str]) -> dict[str, Any]:
    """What templates may see of a work item: initials, never the patient record. The denials
    are listed once: a denial item's title and note repeat their text (the work queue shows
    them without the list), so the email's summary keeps only what comes before it and a note
    that only repeats it is left out."""
    denials = list(dict.fromkeys(d.plain for d in item.denials))  # two lines, one reason: once
    said = "; ".join(denials)
    summary, note = item.summary, item.note
    if said and summary:
        head, dash, tail = summary.partition(" — ")
        if dash and tail and said.startswith(tail):
            summary = head
    if said and note and note.strip() == said:
        note = None
    return {
        "work_item_id": item.work_item_id,
        "claim_id": item.claim_id,
        "queue": item.queue.replace("_", " "),
        "patient_initials": item.patient.initials,
        "denials": denials,
        "summary": _scrub(summary, scrub_terms),
        "due": item.due,
        "link": item.link,
        "assignee_name": item.assignee_name,
        "note": _scrub(note, scrub_terms),
    }


def _view(notice: _In) -> tuple[dict[str, Any], list[str]]:
    if isinstance(notice, DigestNotice):
        patients = [item.patient for item in notice.items]
        terms = [t for p in patients for t in p.scrub_terms()]
        items = [_item_view(item, terms) for item in notice.items]
        view = {
            "recipient_name": notice.recipient_name,
            "day": notice.day,
            "items": items,
            "queue_link": notice.queue_link,
        }
        return view, [i for p in patients for i in p.identifiers()]
    assert isinstance(notice, WorkItemNotice | EscalationNotice)
    terms = notice.patient.scrub_terms()
    view = {"recipient_name": notice.recipient_name, "item": _item_view(notice, terms)}
    if isinstance(notice, EscalationNotice):
        view["reason"] = _scrub(notice.reason, terms)
        view["overdue_since"] = notice.overdue_since
    return view, notice.patient.identifiers()


def _subject(kind: str, view: Mapping[str, Any]) -> str:
    if kind == "daily_digest":
        count = len(view["items"])
        return f"Reclaim: {count} open work item{'s' if count != 1 else ''} for {view['day']}"
    item = view["item"]
    due = _fmt_date(item["due"])
    if kind == "new_work_item":
        return f"Reclaim: new {item['queue']} item for claim {item['claim_id']}, due {due}"
    if kind == "reminder":
        return f"Reclaim reminder: claim {item['claim_id']} is due {due}"
    return f"Reclaim escalation: claim {item['claim_id']} ({item['queue']}) needs a manager"


def render_email(
    kind: EmailKind, context: Mapping[str, Any] | BaseModel, *, templates_dir: Path = TEMPLATES_DIR
) -> RenderedEmail:
    """Subject, text and HTML of one notice; `context` is validated into the kind's model."""
    if kind not in _CONTEXT_MODELS:
        raise ValueError(f"unknown email kind {kind!r}; expected one of {EMAIL_KINDS}")
    raw = context.model_dump() if isinstance(context, BaseModel) else dict(context)
    notice = _CONTEXT_MODELS[kind].model_validate(raw)
    view, identifiers = _view(notice)
    folder = templates_dir / "email"
    rendered = RenderedEmail(
        subject=_subject(kind, view),
        text=_environment(folder, html=False).get_template(f"{kind}.txt").render(view),
        html=_environment(folder, html=True).get_template(f"{kind}.html").render(view),
    )
    _assert_no_phi(rendered, identifiers)
    return rendered


# ---------------------------------------------------------------- appeal letter


class LetterParty(_In):
    name: str
    address_lines: list[str] = Field(default_factory=list)


class AppealLetter(_In):
    letter_date: date
    payer: LetterParty
    provider: LetterParty
    provider_npi: str
    provider_tax_id: str | None = None
    patient_name: str
    patient_birth_date: date | None = None
    member_id: str
    claim_id: str
    payer_claim_control_number: str | None = None
    service_date: date
    service_date_end: date | None = None
    billed_amount: Decimal
    denied_amount: Decimal | None = None
    remittance_date: date | None = None
    denials: list[DenialCodes] = Field(min_length=1)
    argument: str = Field(min_length=1)
    enclosures: list[str] = Field(default_factory=list)
    appeal_deadline: date
    signer_name: str
    signer_title: str | None = None


def _denial_rows(denials: list[DenialCodes]) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{d.group.upper()}-{d.carc.upper()}",
            "label": describe_carc(d.carc),
            "group_label": describe_group(d.group),
            "remarks": [{"code": r.upper(), "label": describe_rarc(r)} for r in d.rarcs],
        }
        for d in denials
    ]


def render_appeal_letter(
    context: Mapping[str, Any] | BaseModel, *, templates_dir: Path = TEMPLATES_DIR
) -> str:
    """A print-ready HTML appeal letter to the payer."""
    raw = context.model_dump() if isinstance(context, BaseModel) else dict(context)
    letter = AppealLetter.model_validate(raw)
    view = letter.model_dump()
    view["denial_rows"] = _denial_rows(letter.denials)
    view["paragraphs"] = [p.strip() for p in letter.argument.split("\n\n") if p.strip()]
    env = _environment(templates_dir / "letters", html=True)
    return env.get_template("appeal.html").render(view)
