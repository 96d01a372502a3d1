"""837 intake against a real database: claims created claim by claim, nothing created twice for
the same submitter's patient control number (a re-import, or two imports racing)."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from reclaim.claims.intake import import_837
from reclaim.models import Claim, ClaimImport, ImportedClaim

SAMPLES = Path("/work/shared/samples/x12")
TWO_INSTITUTIONAL = SAMPLES / "837I" / "lfh-two-claims-single-provider.837i"
UHIN = SAMPLES / "837P" / "uhin-837.edi"


def from_submitter(path: Path, submitter: str) -> str:
    """The sample as another submitter (1000A NM109) sent it: the database is shared by the
    session's tests, and a submitter's patient control numbers are imported once."""
    return re.sub(r"(NM1\*41\*[^~]*?\*46\*)[^~*]*", rf"\g<1>{submitter}", path.read_text())


def claims_of(engine: Engine, submitter: str) -> list[ImportedClaim]:
    with Session(engine) as session:
        return list(session.exec(select(ImportedClaim).where(
            col(ImportedClaim.submitter) == submitter)))


def test_each_claim_becomes_a_claim_and_a_reimport_creates_nothing(engine: Engine) -> None:
    submitter = f"S{uuid.uuid4().hex[:10]}"
    text = from_submitter(TWO_INSTITUTIONAL, submitter)
    first = import_837(engine=engine, raw=text, filename="two.837i", username="bill")
    assert first.error is None
    assert (first.file_type, first.submitter, first.refused, first.duplicates) == (
        "837I", submitter, [], 0)
    assert [a["patient_control_number"] for a in first.accepted] == ["756048Q", "756049Q"]
    with Session(engine) as session:
        claim = session.get(Claim, first.accepted[0]["claim_id"])
        assert claim is not None
        assert (claim.status, claim.claim_type, claim.payer_id, claim.member_id) == (
            "coding", "institutional", "99999", "030005074")
        assert claim.document["type_of_bill"] == "131"
        stored = session.get(ClaimImport, first.import_id)
        assert stored is not None
        assert (stored.accepted, stored.refused, stored.duplicates, stored.filename) == (
            2, 0, 0, "two.837i")
    again = import_837(engine=engine, raw=text)
    assert (again.accepted, again.duplicates) == ([], 2)
    assert [d["claim_id"] for d in again.duplicate_claims] == [
        a["claim_id"] for a in first.accepted]
    assert len(claims_of(engine, submitter)) == 2


def test_the_same_pcn_from_another_submitter_is_another_claim(engine: Engine) -> None:
    one, two = f"A{uuid.uuid4().hex[:8]}", f"B{uuid.uuid4().hex[:8]}"
    assert len(import_837(engine=engine, raw=from_submitter(UHIN, one)).accepted) == 1
    assert len(import_837(engine=engine, raw=from_submitter(UHIN, two)).accepted) == 1


def test_good_claims_go_in_and_the_bad_one_is_listed(engine: Engine) -> None:
    submitter = f"S{uuid.uuid4().hex[:10]}"
    text = from_submitter(TWO_INSTITUTIONAL, submitter).replace(
        "SV2*0305*HC:85025*13.39*UN*1.00", "SV2*0305")
    result = import_837(engine=engine, raw=text)
    assert [a["patient_control_number"] for a in result.accepted] == ["756049Q"]
    [refused] = result.refused
    assert refused["patient_control_number"] == "756048Q"
    assert refused["segment"] == 29  # the SV2 cut short
    assert "SV202" in refused["reason"]


def test_an_unreadable_file_is_kept_with_its_error(engine: Engine) -> None:
    result = import_837(engine=engine, raw=b"hello, not an 837")
    assert result.error is not None
    assert result.accepted == []
    with Session(engine) as session:
        stored = session.get(ClaimImport, result.import_id)
        assert stored is not None
        assert stored.raw == "hello, not an 837"
        assert stored.error is not None


def test_two_imports_racing_create_each_claim_once(engine: Engine) -> None:
    submitter = f"R{uuid.uuid4().hex[:10]}"
    text = from_submitter(TWO_INSTITUTIONAL, submitter)
    results = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(import_837(engine=engine, raw=text))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(len(r.accepted) for r in results) == 2
    assert sum(r.duplicates for r in results) == 4
    imported = claims_of(engine, submitter)
    assert len(imported) == 2
    with Session(engine) as session:
        created = session.exec(select(func.count()).select_from(Claim).where(
            col(Claim.id).in_([i.claim_id for i in imported]))).one()
    assert created == 2
