"""Plain words for what a denial means to the person who gets it, and why it went to them.

A group code alone says little: CO means "the provider cannot bill the patient for this", but a
CO-16 (data missing) is fixed and resent and paid, while a CO-45 (contract reduction) is
absorbed. So the group is explained together with the reason's category (reclaim.codes.carc).
Route explanations name what was checked in the billing team's words, never the routing
table's internal flag names.
"""

from __future__ import annotations

import re

# Reason categories (reclaim.codes.carc.CarcCategory) a correction and a new submission fix.
FIXABLE = frozenset({"data_missing", "coding", "units", "provider"})

# What the group means for a denial of each category: (group, category) first, then the group.
_GROUP_MEANING: dict[tuple[str, str], str] = {
    ("CO", "contractual"): "contract adjustment: the provider absorbs it, do not bill the patient",
    ("CO", "patient_share"): "contract adjustment: the provider absorbs it",
    ("CO", "bundling"): "bundled: add a modifier and resend when the record supports it, "
    "otherwise the provider absorbs it",
    ("CO", "eligibility"): "coverage problem: check the patient's plan and member id, then "
    "resend to the right plan",
    ("CO", "coordination"): "another payer comes first: send the claim there",
    ("CO", "authorization"): "authorization or referral missing: add the number and resend, "
    "or appeal",
    ("CO", "medical_necessity"): "appeal with the medical record; the patient cannot be billed "
    "without a signed waiver",
    ("CO", "non_covered"): "not payable under the provider's contract: appeal or absorb it",
    ("CO", "documentation"): "send the records the payer asked for",
    ("CO", "duplicate"): "the payer already has this claim: check the original, do not resend",
    ("CO", "timely_filing"): "filed too late: the provider absorbs it unless there is proof it "
    "was filed in time",
    ("CO", "denied"): "denied: the provider cannot bill the patient; look at the claim",
    ("PR", "patient_share"): "the patient owes it: bill the patient",
    ("OA", "contractual"): "already settled by an earlier payer or agreement: nothing to bill",
    ("OA", "duplicate"): "the payer already has this claim: check the original, do not resend",
    ("PI", "contractual"): "the payer's own reduction: dispute it with the payer if it is wrong; "
    "the patient cannot be billed",
}
_FIX_AND_RESEND = "fix and resend: the payer pays once the claim is corrected"
_GROUP_DEFAULT: dict[str, str] = {
    "CO": "the provider cannot bill the patient for it",
    "PR": "the patient may be billed for it: the plan does not cover it",
    "OA": "other adjustment: neither the contract nor the patient; look at the reason",
    "PI": "the payer's own adjustment: dispute it with the payer if it is wrong; the patient "
    "cannot be billed",
    "CR": "corrects or reverses an earlier claim: nothing to do",
}


def group_meaning(group: str, category: str) -> str:
    """What group + reason category mean for this denial, e.g. CO + data_missing ->
    "fix and resend: …", CO + contractual -> "contract adjustment: the provider absorbs it…"."""
    group = group.strip().upper()
    if group not in _GROUP_DEFAULT:
        raise ValueError(f"{group!r} is not a claim adjustment group code (CO, PR, OA, PI, CR)")
    if group == "CR":
        return _GROUP_DEFAULT["CR"]
    found = _GROUP_MEANING.get((group, category))
    if found:
        return found
    if category in FIXABLE and group != "PR":
        return _FIX_AND_RESEND
    return _GROUP_DEFAULT[group]


# ---------------------------------------------------------------- routes

# Who does what next, for each route.
ROUTE_WORDS: dict[str, str] = {
    "auto_fix": "Reclaim fixes the claim and sends it again itself",
    "coder": "a coder corrects the claim",
    "front_desk": "the front desk corrects the claim",
    "appeal": "a biller appeals it",
    "write_off": "it is written off",
    "patient": "the patient is billed",
    "close": "it is closed",
}

# The facts a routing row may depend on (reclaim.denials.routing.ContextFlag): (true, false).
CONDITION_WORDS: dict[str, tuple[str, str]] = {
    "rendering_provider_on_file": (
        "the rendering provider is in the provider directory",
        "the rendering provider is not in the provider directory",
    ),
    "place_of_service_on_file": (
        "the visit record gives the place of service",
        "the visit record does not give the place of service",
    ),
    "referring_provider_on_file": (
        "the visit record names the referring provider",
        "the visit record does not name the referring provider",
    ),
    "ordering_provider_on_file": (
        "the visit record names the ordering provider",
        "the visit record does not name the ordering provider",
    ),
    "modifier_rule_on_file": (
        "a rule knows which modifier the procedure needs",
        "no rule knows which modifier the procedure needs",
    ),
    "timely_filing_proof": (
        "there is proof the claim was filed in time",
        "there is no proof the claim was filed in time",
    ),
}


def route_words(route: str) -> str:
    return ROUTE_WORDS.get(route, f"it goes to {route.replace('_', ' ')}")


def condition_words(flag: str, met: bool) -> str:
    words = CONDITION_WORDS.get(flag)
    if words is None:
        return flag.replace("_", " ") if met else "not " + flag.replace("_", " ")
    return words[0] if met else words[1]


def explain_route(codes: str, *, route: str, note: str = "", condition: str | None = None,
                  met: bool | None = None, rule_id: str | None = None,
                  default: bool = False) -> str:
    """Why a denial went where it went, for a person: "CO-16/N290 (missing data): the rendering
    provider is not in the provider directory, so the front desk corrects the claim (routing
    rule co-16-n290).". The rule's id comes last, for whoever edits the table."""
    head = codes + (f" ({note})" if note else "")
    tail = f" (routing rule {rule_id})." if rule_id else "."
    if default:
        return f"{head}: no routing rule names these codes, so {route_words(route)} (the " \
               "table's default)."
    if condition is None or met is None:
        return f"{head}: {route_words(route)}{tail}"
    return f"{head}: {condition_words(condition, met)}, so {route_words(route)}{tail}"


def explain_attempt_cap(attempt: int, cap: int) -> str:
    return f" This was attempt {attempt} of the {cap} the payer accepts, so a manager decides."


_LEGACY_RULE = re.compile(r"^(?P<codes>\S+) matched rule '(?P<rule>[^']+)'(?: \((?P<note>[^)]*)\))?"
                          r"(?:; (?P<neg>not )?(?P<flag>[a-z_]+)(?:, so (?P<fallback>[a-z_]+))?)?"
                          r"(?P<rest>.*)$")
_LEGACY_DEFAULT = re.compile(r"^(?P<codes>\S+) matched no rule; table default (?P<route>[a-z_]+)"
                             r"(?P<rest>.*)$")
_LEGACY_CAP = re.compile(r"; attempt (\d+) reached the cap of (\d+)")


def route_reason_words(reason: str | None) -> str:
    """A stored routing reason in people's words: those written before the explanations were
    ("CO-16/N290 matched rule 'x'; not rendering_provider_on_file, so front_desk") are
    rewritten; the rest are returned as they are."""
    if not reason:
        return ""
    cap = _LEGACY_CAP.search(reason)
    text = _LEGACY_CAP.sub("", reason)
    default = _LEGACY_DEFAULT.match(text)
    rule = _LEGACY_RULE.match(text)
    if default and not default["rest"]:
        out = explain_route(default["codes"], route=default["route"], default=True)
    elif rule and not rule["rest"] and rule["flag"] in (None, *CONDITION_WORDS):
        head = rule["codes"] + (f" ({rule['note']})" if rule["note"] else "")
        source = f" (routing rule {rule['rule']})."
        flag = rule["flag"]
        if flag is None:
            out = head + source
        elif rule["neg"] and rule["fallback"]:
            out = explain_route(rule["codes"], route=rule["fallback"], note=rule["note"] or "",
                                condition=flag, met=False, rule_id=rule["rule"])
        else:
            out = f"{head}: {condition_words(flag, True)}{source}"
    else:
        return reason
    if cap:
        out += explain_attempt_cap(int(cap.group(1)), int(cap.group(2)))
    return out
