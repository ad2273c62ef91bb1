"""Pile-domain analogues for the Pythia experiment: philosophy papers (PhilPapers), grant
abstracts (NIH ExPorter) and patent backgrounds (USPTO).

Each domain has its own register and vocabulary, so continued training on one of them moves a
model in a direction the others do not, which is what weight merging and ensembling are tested
on. Each document is about one recurring KB item, so the domains also carry learnable facts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from world import wordlists as wl
from world.names import NameGenerator


@dataclass(frozen=True)
class Thinker:
    name: str
    school: str
    thesis: str  # the concept the thinker holds prior
    rival: str  # the concept it is prior to
    century: int


@dataclass(frozen=True)
class Therapy:
    drug: str
    gene: str
    disease: str
    mechanism: str
    model: str
    investigator: str


@dataclass(frozen=True)
class Invention:
    device: str
    field: str
    component: str
    defect: str
    assignee: str
    prior_art: int  # the patent number cited as related art


def build_pile_knowledge(
    rng: random.Random, names: NameGenerator, n: int = 24
) -> tuple[tuple[Thinker, ...], tuple[Therapy, ...], tuple[Invention, ...]]:
    """`n` thinkers, therapies and inventions, each a recurring subject of its domain."""
    thinkers = tuple(
        Thinker(
            names.name(),
            names.name() + "ian",
            *rng.sample(wl.PHIL_CONCEPTS, 2),
            rng.randint(12, 20),
        )
        for _ in range(n)
    )
    therapies = tuple(
        Therapy(
            names.name(suffix=rng.choice(("mab", "tinib", "parin", "cept"))),
            names.word(1, 1)[:3].upper() + str(rng.randint(1, 9)),
            rng.choice(wl.DISEASES),
            rng.choice(wl.MECHANISMS),
            rng.choice(wl.MODEL_SYSTEMS),
            f"Dr. {names.name()}",
        )
        for _ in range(n)
    )
    inventions = tuple(
        Invention(
            rng.choice(wl.DEVICES),
            rng.choice(wl.PATENT_FIELDS),
            rng.choice(wl.COMPONENTS),
            rng.choice(wl.DEFECTS),
            f"{names.name()} Industries",
            rng.randint(3_000_000, 9_999_999),
        )
        for _ in range(n)
    )
    return thinkers, therapies, inventions


_PHIL = (
    (
        "In this paper I defend the thesis that {thesis} is prior to {rival}.",
        "It is widely assumed that {thesis} can be explained in terms of {rival}. I argue that "
        "this assumption is mistaken, and that the order of explanation runs the other way.",
        "What is the relation between {thesis} and {rival}? This essay argues for an answer that "
        "has been unduly neglected.",
    ),
    (
        "The view has its roots in the {school} school, and in particular in {name}, who held in "
        "the {century}th century that {rival} without {thesis} is empty.",
        "{name}, the founder of the {school} tradition, first stated the view: an account of "
        "{rival} that omits {thesis} is not false but incomplete.",
    ),
    (
        "The argument runs as follows. If {rival} were prior, then every case of {thesis} would be "
        "intelligible without reference to it. But some cases are not so intelligible. Therefore "
        "{rival} is not prior, and by elimination {thesis} is.",
        "Consider a thought experiment. Two agents agree about every fact concerning {rival} yet "
        "differ with respect to {thesis}. If this is conceivable, then {thesis} is not reducible "
        "to {rival}, and the reductive programme fails.",
    ),
    (
        "One might object that this begs the question against the reductionist. The objection "
        "fails, however, because the premise is accepted on independent grounds by the {school} "
        "tradition itself.",
        "A critic may reply that the argument proves too much. I concede the point in part, but "
        "the concession is harmless: the conclusion concerns only the explanatory priority of "
        "{thesis}, not its metaphysical independence.",
    ),
    (
        "If this is right, the contemporary debate about {rival} must be reframed, and the "
        "insight of {name} deserves a more central place than it has so far received.",
        "I conclude that the {school} position, properly understood, remains a live option.",
    ),
)

_NIH = (
    (
        "PROJECT SUMMARY/ABSTRACT. {disease} remains a major cause of morbidity and mortality, and "
        "current therapies are only partially effective.",
        "PROJECT SUMMARY. Despite decades of research, patients with {disease} have few treatment "
        "options, and the molecular drivers of progression are poorly understood.",
    ),
    (
        "Our preliminary data demonstrate that {drug}, a candidate agent developed in the "
        "laboratory of {investigator}, {mechanism} {gene} in {model}.",
        "In {model}, we found that {drug} {mechanism} {gene}, reducing disease burden by more than "
        "half relative to vehicle-treated controls.",
    ),
    (
        "The long-term goal of this application is to establish {gene} as a therapeutic target in "
        "{disease}. The central hypothesis is that {drug} acts through {gene} to slow progression.",
        "The objective of this proposal is to define the mechanism by which {drug} {mechanism} "
        "{gene} and to determine whether this effect can be exploited clinically.",
    ),
    (
        "Specific Aim 1 will characterise {gene} signalling in {model}. Specific Aim 2 will "
        "determine the pharmacokinetics and dose-response of {drug}. Specific Aim 3 will evaluate "
        "safety and efficacy in a preclinical setting.",
        "In Aim 1 we will map the interaction between {drug} and {gene}. In Aim 2 we will test "
        "whether genetic deletion of {gene} abolishes the response. In Aim 3 we will identify "
        "biomarkers predictive of benefit.",
    ),
    (
        "PUBLIC HEALTH RELEVANCE: Successful completion of these aims will provide a rationale for "
        "early-phase clinical trials of {drug} in patients with {disease}.",
        "NARRATIVE: This research is significant because it may yield a new class of therapeutics "
        "for {disease}, a condition with substantial unmet clinical need.",
    ),
)

_USPTO = (
    (
        "BACKGROUND OF THE INVENTION\n\n1. Field of the Invention\n\nThe present invention relates "
        "generally to {field}, and more particularly to a {device} having a {component}.",
        "BACKGROUND\n\nTechnical Field\n\nThe present disclosure relates to {field} and, in "
        "particular, to an improved {device} comprising a {component}.",
    ),
    (
        "2. Description of the Related Art\n\nConventional {device}s typically comprise a housing, "
        "an inlet portion and an outlet portion joined by a plurality of fasteners. Such "
        "arrangements, however, are prone to {defect}.",
        "Description of Related Art\n\nKnown {device}s generally include a body member and a cover "
        "member secured thereto. It has been found that such devices suffer from {defect}.",
    ),
    (
        "U.S. Pat. No. {prior_art} to {assignee} discloses a {device} wherein a {component} is "
        "disposed between the housing and the cover. While generally satisfactory, the disclosed "
        "arrangement does not fully address {defect}.",
        "One approach, described in U.S. Pat. No. {prior_art} assigned to {assignee}, provides a "
        "{component} integrally formed with the body. However, said approach increases {defect}.",
    ),
    (
        "Accordingly, there remains a need in the art for a {device} that overcomes the "
        "aforementioned drawbacks. It is therefore an object of the present invention to provide "
        "a {device} that is simple to manufacture and reliable in use.",
        "Thus, a need exists for an improved {device} which substantially eliminates {defect} "
        "while remaining economical to produce.",
    ),
)


def _render(
    rng: random.Random, sections: tuple[tuple[str, ...], ...], slots: dict[str, object]
) -> str:
    """One variant per section, filled with one KB item's slots."""
    return "\n\n".join(rng.choice(variants).format(**slots) for variants in sections)


def phil_doc(thinkers: tuple[Thinker, ...], rng: random.Random) -> str:
    """A philosophy paper's argument, built around one thinker's thesis."""
    return _render(rng, _PHIL, vars(rng.choice(thinkers)))


def nih_doc(therapies: tuple[Therapy, ...], rng: random.Random) -> str:
    """A grant abstract about one candidate therapy."""
    return _render(rng, _NIH, vars(rng.choice(therapies)))


def uspto_doc(inventions: tuple[Invention, ...], rng: random.Random) -> str:
    """A patent background section about one invention."""
    return _render(rng, _USPTO, vars(rng.choice(inventions)))
