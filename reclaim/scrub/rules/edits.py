"""Edits between lines: NCCI procedure-to-procedure pairs, MUE unit limits, and a same-day visit
with a procedure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from reclaim.claims.schemas import ClaimDocument, ServiceLine
from reclaim.codes import cpt, modifiers
from reclaim.scrub.models import Issue, ScrubContext, error, warning
from reclaim.scrub.registry import rule

# Modifiers that let a visit stand beside a procedure the same day.
_VISIT_MODIFIERS = frozenset({"25", "57"})


def _by_date(doc: ClaimDocument) -> dict[date, list[tuple[int, ServiceLine]]]:
    days: dict[date, list[tuple[int, ServiceLine]]] = defaultdict(list)
    for i, line in enumerate(doc.lines):
        days[line.service_date or doc.service_date].append((i, line))
    return days


def _pair_separated(first: ServiceLine, second: ServiceLine) -> bool:
    """An NCCI-associated modifier on the column 2 line, or different anatomic sites."""
    if any(modifiers.separates_ncci_pair(code) for code in second.modifiers):
        return True
    sites_1 = {code for code in first.modifiers if modifiers.is_anatomic(code)}
    sites_2 = {code for code in second.modifiers if modifiers.is_anatomic(code)}
    return bool(sites_1 and sites_2 and sites_1.isdisjoint(sites_2))


@rule("ncci_ptp")
def ncci_ptp(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    for day, lines in _by_date(doc).items():
        for _, first in lines:
            for j, second in lines:
                if first.procedure == second.procedure:
                    continue
                edit = ctx.edits.ptp(first.procedure, second.procedure, day)
                if edit is None or edit.modifier_indicator == 9:
                    continue
                yield from _pair_issue(first, second, j, edit.modifier_indicator)


def _pair_issue(first: ServiceLine, second: ServiceLine, j: int, indicator: int) -> Iterator[Issue]:
    pair = f"{second.procedure} is bundled into {first.procedure} on the same day (NCCI edit)"
    if indicator == 0:
        yield error(
            f"lines[{j}].procedure",
            f"{pair} and no modifier can separate them: remove {second.procedure}.",
        )
    elif not _pair_separated(first, second):
        hint = (
            "25 (a separate, significant visit)"
            if cpt.is_evaluation_and_management(second.procedure)
            else "XS, XE, XP, XU or 59"
        )
        yield error(
            f"lines[{j}].modifiers",
            f"{pair}: remove {second.procedure}, or if the record shows it was separate, add "
            f"{hint} to {second.procedure}.",
        )


@rule("mue")
def mue(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    for day, lines in _by_date(doc).items():
        per_code: dict[str, list[tuple[int, ServiceLine]]] = defaultdict(list)
        for i, line in lines:
            limit = ctx.edits.mue(line.procedure)
            if limit is None:
                continue
            per_code[line.procedure].append((i, line))
            if line.units > limit:
                yield error(
                    f"lines[{i}].units",
                    f"{line.units} units of {line.procedure} exceed the most a payer accepts "
                    f"on one line ({limit}, CMS MUE): check the units, or split them only if the "
                    "record supports it.",
                )
        for code, same in per_code.items():
            yield from _day_total(code, day, same, ctx)


def _day_total(
    code: str, day: date, lines: list[tuple[int, ServiceLine]], ctx: ScrubContext
) -> Iterator[Issue]:
    limit = ctx.edits.mue(code)
    total = sum((line.units for _, line in lines), Decimal(0))
    if limit is not None and len(lines) > 1 and total > limit:
        yield warning(
            f"lines[{lines[-1][0]}].units",
            f"{code} is billed {total} units on {day} across {len(lines)} lines, above the daily "
            f"limit of {limit} (CMS MUE) most payers apply: expect the excess to be denied.",
        )


@rule("em_modifier_25")
def em_modifier_25(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    if not ctx.payer.em_modifier_25:
        return
    for lines in _by_date(doc).values():
        procedures = [line.procedure for _, line in lines if cpt.is_procedure(line.procedure)]
        if not procedures:
            continue
        for i, line in lines:
            visit = cpt.is_evaluation_and_management(line.procedure)
            if visit and not _VISIT_MODIFIERS.intersection(line.modifiers):
                yield error(
                    f"lines[{i}].modifiers",
                    f"Visit {line.procedure} is billed on the same day as procedure "
                    f"{procedures[0]}: add modifier 25 to {line.procedure} if the visit was "
                    "significant and separate from the procedure, otherwise remove the visit.",
                )
