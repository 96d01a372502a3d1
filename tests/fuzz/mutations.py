"""Hostile X12: seeded mutations of real payer files.

Every mutation is a pure function of a `random.Random` and a seed file, so a failing case is
reproduced from its name alone (`seed file`, mutation, case number).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"
SEED_FOLDERS = ("835", "277CA", "999")
ODD_VALUES = (
    "", " ", "-", ".", "-0.00", ".5", "1e5", "NaN", "Infinity", "9" * 19, "9" * 40,
    "12345678901.23", "-99999999999", "20261399", "20260230", "00000000", "ÿÿ", "\x00", "\t",
    "🙂", "A" * 70, "RC", "RC-1", "RC1-", "RC99999999999999999999-1", "RC2147483648-1",
    "RC0-0", "*", ":", "~", "^", "0" * 12,
)
NEW_DELIMITERS = "|!^,;#@\t\x1d\x1c\x1f\n"


@dataclass(frozen=True)
class Seed:
    name: str
    text: str

    @property
    def element(self) -> str:
        return self.text[3]

    @property
    def component(self) -> str:
        return self.text[104]

    @property
    def terminator(self) -> str:
        return self.text[105]

    def segments(self) -> list[str]:
        """The segments without terminator, whitespace between them dropped."""
        return [s.strip("\r\n") for s in self.text.split(self.terminator) if s.strip("\r\n")]

    def join(self, segments: list[str]) -> str:
        return "".join(s + self.terminator + "\n" for s in segments)


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes


Mutation = Callable[[random.Random, Seed], str | bytes]


def fixture_seeds() -> list[Seed]:
    seeds = []
    for folder in SEED_FOLDERS:
        for path in sorted((FIXTURES / folder).iterdir()):
            text = path.read_bytes().decode("utf-8-sig").lstrip()
            seeds.append(Seed(f"{folder}/{path.name}", text))
    return seeds


# ---------------------------------------------------------------- the mutations


def truncate(rng: random.Random, seed: Seed) -> str:
    return seed.text[: rng.randrange(len(seed.text))]


def truncate_segments(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    return seed.join(segments[: rng.randrange(1, len(segments))])


def wrong_element_separator(rng: random.Random, seed: Seed) -> str:
    """The body uses another element separator than the one the ISA declares."""
    other = rng.choice([c for c in NEW_DELIMITERS if c != seed.element and c != "\n"])
    head, body = seed.text[:106], seed.text[106:]
    if rng.random() < 0.5:
        body = body.replace(seed.element, other)
    else:  # only part of the body: mixed delimiters
        cut = rng.randrange(len(body))
        body = body[:cut] + body[cut:].replace(seed.element, other)
    return head + body


def wrong_declared_delimiter(rng: random.Random, seed: Seed) -> str:
    """The ISA declares a component separator or terminator the body does not use."""
    position = rng.choice((104, 105, 82))
    other = rng.choice(NEW_DELIMITERS)
    return seed.text[:position] + other + seed.text[position + 1:]


def redelimit(rng: random.Random, seed: Seed) -> str:
    """The same file with other (consistent) delimiters: still a readable file."""
    element, component, terminator = rng.sample("|!\x1d\x1f\x1c", 3)
    mapping = {seed.element: element, seed.component: component, seed.terminator: terminator}
    text = seed.text.replace("\r", "").replace("\n", "")
    return "".join(mapping.get(c, c) for c in text)


def huge_segment(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    size = rng.choice((9_000, 70_000, 400_000))
    filler = rng.choice(("A", "9", " ", seed.element))
    position = rng.randrange(1, len(segments))
    segments.insert(position, f"NTE{seed.element}ADD{seed.element}{filler * size}")
    return seed.join(segments)


def huge_element(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    index = rng.randrange(1, len(segments))
    elements = segments[index].split(seed.element)
    if len(elements) < 2:
        return seed.join(segments)
    position = rng.randrange(1, len(elements))
    elements[position] = rng.choice(("X", "1", "RC1-")) * rng.choice((40, 51, 300, 5_000))
    segments[index] = seed.element.join(elements)
    return seed.join(segments)


ENVELOPE = ("ISA", "IEA", "GS", "GE", "ST", "SE")


def unbalance(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    wanted = rng.choice(ENVELOPE)
    spots = [i for i, s in enumerate(segments) if s.startswith(wanted + seed.element)]
    if not spots:
        return seed.join(segments)
    spot = rng.choice(spots)
    action = rng.choice(("drop", "double", "move"))
    if action == "drop":
        del segments[spot]
    elif action == "double":
        segments.insert(spot, segments[spot])
    else:
        segment = segments.pop(spot)
        segments.insert(rng.randrange(len(segments) + 1), segment)
    return seed.join(segments)


def duplicate_segments(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    for _ in range(rng.randint(1, 4)):
        index = rng.randrange(len(segments))
        segments.insert(index, segments[index])
    return seed.join(segments)


def remove_segments(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    for _ in range(rng.randint(1, 3)):
        if len(segments) > 1:
            del segments[rng.randrange(len(segments))]
    return seed.join(segments)


def swap_segments(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    a, b = rng.randrange(len(segments)), rng.randrange(len(segments))
    segments[a], segments[b] = segments[b], segments[a]
    return seed.join(segments)


def flip_bytes(rng: random.Random, seed: Seed) -> bytes:
    data = bytearray(seed.text.encode())
    for _ in range(rng.choice((1, 2, 5, 20))):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def odd_element(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(segments))
        elements = segments[index].split(seed.element)
        if len(elements) > 1 and not segments[index].startswith("ISA"):
            elements[rng.randrange(1, len(elements))] = rng.choice(ODD_VALUES)
            segments[index] = seed.element.join(elements)
    return seed.join(segments)


def unknown_claims(rng: random.Random, seed: Seed) -> str:
    """Patient control numbers (CLP01, TRN*2) and AK102 pointing at claims nobody stored."""
    segments = seed.segments()
    sep = seed.element
    for index, segment in enumerate(segments):
        elements = segment.split(sep)
        if elements[0] == "CLP" or (elements[0] == "TRN" and elements[1:2] == ["2"]):
            position = 1 if elements[0] == "CLP" else 2
        elif elements[0] == "AK1":
            position = 2
        else:
            continue
        if len(elements) > position:
            elements[position] = _unknown_id(rng, numeric=elements[0] == "AK1")
            segments[index] = sep.join(elements)
    return seed.join(segments)


def _unknown_id(rng: random.Random, *, numeric: bool) -> str:
    number = rng.choice((rng.randrange(10**6, 10**8), 2**31, 2**63, 10**30, 0))
    if numeric:
        return str(number)[:rng.choice((9, 20))]
    return rng.choice((f"RC{number}-{rng.randrange(5)}", f"RC{number}", f"X{number}",
                       f"rc{number}-1"))


def repeat_transactions(rng: random.Random, seed: Seed) -> str:
    segments = seed.segments()
    starts = [i for i, s in enumerate(segments) if s.startswith("ST" + seed.element)]
    ends = [i for i, s in enumerate(segments) if s.startswith("SE" + seed.element)]
    if not starts or not ends or ends[0] < starts[0]:
        return seed.join(segments)
    block = segments[starts[0]: ends[0] + 1]
    copies = rng.choice((2, 20, 200))
    return seed.join(segments[: ends[0] + 1] + block * copies + segments[ends[0] + 1:])


def noise(rng: random.Random, seed: Seed) -> bytes:
    """Whitespace, a byte-order mark, CRLF, trailing garbage."""
    text = seed.text
    choice = rng.randrange(5)
    if choice == 0:
        return b"\xef\xbb\xbf" + text.encode()
    if choice == 1:
        return text.replace(seed.terminator + "\n", seed.terminator + "\r\n").encode()
    if choice == 2:
        return ("\r\n \t" + text + "\n\n  ").encode()
    if choice == 3:
        return (text + rng.choice(("garbage", "ISA", "~~~", "\x00\x00", "IEA*1*1~"))).encode()
    return text.replace(seed.terminator, seed.terminator * 2).encode()


MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate, "truncate_segments": truncate_segments,
    "wrong_element_separator": wrong_element_separator,
    "wrong_declared_delimiter": wrong_declared_delimiter, "redelimit": redelimit,
    "huge_segment": huge_segment, "huge_element": huge_element, "unbalance": unbalance,
    "duplicate_segments": duplicate_segments, "remove_segments": remove_segments,
    "swap_segments": swap_segments, "flip_bytes": flip_bytes, "odd_element": odd_element,
    "unknown_claims": unknown_claims, "repeat_transactions": repeat_transactions, "noise": noise,
}
# Huge inputs cost time; they are a small share of the cases.
WEIGHTS = {"huge_segment": 1, "huge_element": 3, "repeat_transactions": 1}


def cases(seeds: list[Seed], *, count: int, rng_seed: int) -> Iterator[Case]:
    rng = random.Random(rng_seed)
    names = list(MUTATIONS)
    weights = [WEIGHTS.get(name, 6) for name in names]
    for number in range(count):
        seed = seeds[number % len(seeds)]
        name = rng.choices(names, weights)[0]
        out = MUTATIONS[name](rng, seed)
        data = out.encode() if isinstance(out, str) else out
        yield Case(f"{seed.name} {name} #{rng_seed}-{number}", data)
