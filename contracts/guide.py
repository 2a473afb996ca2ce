"""`icarflex guide`: the French interface guide regenerated from the contract.

Everything printed here is read from `contracts/data/` and the active parameterization
(the guide's defaults with a profile laid over), so the document an integrator reads
cannot drift from what the fakes enforce and the tests check: guide §1 (rules R1…),
§2 (the "Paramétrage API VO" table, row for row), the statuses and the OpenFlex → ICAR
mapping, the lifelines and transitions, the workflows of §3–5.
"""
from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from icarflex.contracts.document import (
    Block,
    Bullets,
    Code,
    Em,
    Heading,
    Inline,
    Item,
    Ordered,
    Paragraph,
    Strong,
    Table,
    Text,
    to_html,
    to_markdown,
)
from icarflex.contracts.models import (
    Contract,
    ContractError,
    ParameterRow,
    PreamblePoint,
    Transition,
    Workflow,
    WorkflowStep,
    load_contract,
)
from icarflex.contracts.profile import ApiVoSettings, load_profile

TITLE = "Guide interface ICAR DMS"
FORMATS = ("md", "html")
TABLE_HEADERS = ("Libellé du guide", "OUI/NON", "Commentaire", "Id", "TBD")
CREATION = "(création)"
POINTS_HEADING = "Points d'attention"
PARAMETERIZATION_HEADING = "2. Paramétrage API VO"


def yes_no(value: bool) -> str:
    return "OUI" if value else "NON"


def source_fr(source: str) -> str:
    return "guide" if source == "guide" else "inférée"


def render_guide(contract: Contract, settings: ApiVoSettings | None = None, fmt: str = "md",
                 profile_name: str | None = None) -> str:
    """The guide in French, as Markdown (`md`) or one self-contained HTML page (`html`)."""
    settings = settings or ApiVoSettings.defaults(contract)
    blocks = guide_blocks(contract, settings, profile_name)
    if fmt == "md":
        return to_markdown(blocks)
    if fmt == "html":
        return to_html(blocks, TITLE)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


ANNEXES = "Annexes icarflex (hors guide)"
ANNEX_TITLES = ("A. Règles du contrat", "B. Statuts et correspondance OpenFlex → ICAR",
                "C. Lignes de vie et transitions", "D. Codes d'erreur de l'API")


def guide_blocks(contract: Contract, settings: ApiVoSettings, profile_name: str | None = None) -> list[Block]:
    """The guide's own structure (Sommaire, §1-5), then what icarflex adds, set apart as annexes."""
    return [*_preamble(contract, settings, profile_name), *_contents(contract), *_attention_points(contract),
            *_parameterization(contract, settings), *_workflows(contract),
            Heading(2, ANNEXES),
            Paragraph("Ce qui suit n'est pas dans le guide : c'est la lecture d'icarflex, tenue comme "
                      "données dans contracts/data/ ; « inférée » marque ce que le guide n'énonce pas."),
            *_rules(contract), *_statuses(contract), *_lifelines(contract, settings), *_codes(contract)]


def guide_headings(contract: Contract) -> list[str]:
    """The guide's own section headings, §1-5, in order (its Sommaire)."""
    return [contract.rules_data.section, PARAMETERIZATION_HEADING,
            *(section.heading for section in contract.workflows_data.sections)]


def _contents(contract: Contract) -> list[Block]:
    return [Heading(2, "Sommaire"),
            Ordered(tuple(heading.split(". ", 1)[1] for heading in guide_headings(contract))),
            Paragraph(("Hors guide : ", Strong(ANNEXES), " — ", " ; ".join(ANNEX_TITLES), "."))]


def _with_bold(text: str) -> Text:
    """The guide's `**bold**` marks as Strong parts."""
    parts: list[Inline] = []
    for index, piece in enumerate(text.split("**")):
        if piece:
            parts.append(Strong(piece) if index % 2 else piece)
    return tuple(parts)


def _preamble(contract: Contract, settings: ApiVoSettings, profile_name: str | None) -> list[Block]:
    changed = ApiVoSettings.defaults(contract).diff(settings)
    if changed:
        ids: list[Inline] = []
        for row_id in changed:
            ids += [", " if ids else "", Code(row_id)]
        profile: Text = (f"Paramétrage actif : profil {profile_name or '(sans nom)'} — "
                         f"{len(changed)} ligne(s) diffèrent du guide : ", *ids, ".")
    else:
        named = f" (profil {profile_name})" if profile_name else ""
        profile = f"Paramétrage actif : valeurs du guide{named}."
    return [Heading(1, TITLE),
            Paragraph("Régénéré depuis le contrat icarflex (contracts/data/) : ce document ne peut pas "
                      "diverger de ce que les simulateurs appliquent et de ce que les tests vérifient."),
            Paragraph(profile)]


def _attention_points(contract: Contract) -> list[Block]:
    """§1 as the guide has it: its bullets and sub-bullets, word for word, each tagged with the
    contract rules that stand on it."""
    tags: dict[str, list[str]] = {}
    for rule in contract.rules.values():
        for point in rule.points:
            tags.setdefault(point, []).append(rule.id)

    def item(point: PreamblePoint) -> Item:
        tag: tuple[Inline, ...] = (" ", Em(f"({', '.join(tags[point.id])})")) if point.id in tags else ()
        return Item((*_with_bold(point.text), *tag), tuple(item(p) for p in point.items))
    return [Heading(2, contract.rules_data.section), Heading(3, POINTS_HEADING),
            Bullets(tuple(item(point) for point in contract.rules_data.preamble))]


def _rules(contract: Contract) -> list[Block]:
    items: list[Item] = []
    for rule in contract.rules.values():
        inferred: tuple[Inline, ...] = (" ", Em("(inféré)")) if rule.source == "inferred" else ()
        notes: list[Text] = [("Lu dans : ", rule.basis)] if rule.basis else []
        notes += [("Source : ", reference) for reference in rule.references]
        items.append(Item((Strong(f"{rule.id} — {rule.title}"), *inferred, " : ", rule.guide), tuple(notes)))
    return [Heading(3, ANNEX_TITLES[0]),
            Paragraph("Chaque règle porte un identifiant stable ; une règle « guide » reprend les points "
                      "d'attention du §1 mot pour mot, une règle « inférée » est notre lecture."),
            Bullets(tuple(items))]


def _value_cell(row: ParameterRow, settings: ApiVoSettings) -> Text:
    value = settings[row.id]
    if value == row.default:
        return yes_no(value)
    return (Strong(yes_no(value)), f" (guide : {row.guide_value})")


def _parameterization(contract: Contract, settings: ApiVoSettings) -> list[Block]:
    rows = contract.parameterization.rows
    table = Table(TABLE_HEADERS,
                  tuple((row.guide_label, _value_cell(row, settings), row.comment, Code(row.id),
                         "TBD" if row.tbd else "") for row in rows),
                  tuple(" ".join(c for c, on in (("changed", settings[row.id] != row.default),
                                                 ("tbd", row.tbd)) if on) for row in rows))
    notes: list[Text] = []
    for row in rows:
        if row.note:
            marker: tuple[Inline, ...] = (" ", Em("(effet inféré)")) if row.inferred_effect else ()
            notes.append((Code(row.id), *marker, " : ", row.note))
    blocks: list[Block] = [Heading(2, guide_headings(contract)[1]),
                           Paragraph(f"Section : {contract.parameterization.section}. OUI/NON selon le "
                                     "paramétrage actif ; une valeur en gras diffère du guide. "
                                     "TBD : ligne laissée ouverte par le guide (la valeur par défaut "
                                     "s'applique)."),
                           table]
    return blocks + ([Bullets(tuple(notes))] if notes else [])


def _statuses(contract: Contract) -> list[Block]:
    headers = ("Statut OpenFlex", "Libellé", "Statut ICAR", "Source du statut", "Correspondance", "Publié")
    openflex = Table(headers,
                     tuple((Code(s.id), s.label, Code(s.icar), source_fr(s.source),
                            source_fr(s.mapping_source), "oui" if s.published else "")
                           for s in contract.statuses.values()))
    icar_rows = []
    for status in contract.icar_statuses.values():
        sources = [s.label for s in contract.statuses.values() if s.icar == status.id]
        icar_rows.append((Code(status.id), status.label, source_fr(status.source), ", ".join(sources)))
    icar = Table(("Statut ICAR", "Libellé", "Source", "Statuts OpenFlex correspondants"), tuple(icar_rows))
    blocks: list[Block] = [Heading(3, ANNEX_TITLES[1]),
                           Paragraph("La correspondance est plusieurs-vers-un : plusieurs statuts OpenFlex "
                                     "correspondent au même statut ICAR. « guide » : énoncé par le guide ; "
                                     "« inférée » : notre lecture, à valider."),
                           openflex, icar]
    pending = tuple((Code(s.id), Code(p.icar), contract.rows_fr(p.when), p.reason, Code(p.until),
                     source_fr(p.source))
                    for s in contract.statuses.values() for p in s.icar_pending)
    if pending:
        blocks += [Paragraph("Écarts admis en cours de parcours : ICAR peut afficher ce statut tant que "
                             "l'étape reste à faire dans OpenFlex ; un journal qui s'achève ainsi est "
                             "un constat (règle de la correspondance)."),
                   Table(("Statut OpenFlex", "Statut ICAR admis", "Paramétrage", "Raison", "Jusqu'à",
                          "Source"), pending)]
    return blocks


def _status_label(contract: Contract, status: str | None) -> Text:
    return CREATION if status is None else contract.statuses[status].label


def _gated(contract: Contract, settings: ApiVoSettings, transition: Transition) -> Text:
    parts: list[Inline] = []
    for actor, capability in transition.gated_actors.items():
        label = contract.rows[capability].label
        state = "actif" if settings[capability] else "inactif"
        parts += ["; " if parts else "", Code(actor), f" si « {label} » = OUI ({state})"]
    for actor, capability in transition.gated_off_actors.items():
        label = contract.rows[capability].label
        state = "actif" if not settings[capability] else "inactif"
        parts += ["; " if parts else "", Code(actor), f" si « {label} » = NON ({state}, inféré)"]
    return tuple(parts)


def _codes_of(items: list[str]) -> Text:
    parts: list[Inline] = []
    for item in items:
        parts += [", " if parts else "", Code(item)]
    return tuple(parts)


def _lifelines(contract: Contract, settings: ApiVoSettings) -> list[Block]:
    lines = tuple((Strong(dest), " : ", " → ".join(contract.statuses[s].label for s in line))
                  for dest, line in contract.lifeline.lifelines.items())
    transitions = Table(
        ("De", "Vers", "Acteurs", "Sur paramétrage", "Destinations", "Conditions", "Règles"),
        tuple((_status_label(contract, t.from_), _status_label(contract, t.to), _codes_of(list(t.actors)),
               _gated(contract, settings, t), ", ".join(t.destinations or ("toutes",)),
               _codes_of(list(t.requires)), ", ".join(t.rules)) for t in contract.lifeline.transitions))
    conditions = tuple((Code(name), f" ({pre.code}, {pre.rule}, champ ", Code(pre.field), ") : ", pre.message)
                       for name, pre in contract.lifeline.preconditions.items())
    notes = tuple((f"{_status_label(contract, t.from_)} → {_status_label(contract, t.to)} : ", Em(t.note))
                  for t in contract.lifeline.transitions if t.note)
    blocks: list[Block] = [Heading(3, ANNEX_TITLES[2]), Paragraph("Lignes de vie par destination :"),
                           Bullets(lines), Paragraph("Transitions et acteurs :"), transitions,
                           Paragraph("Conditions préalables :"), Bullets(conditions)]
    return blocks + ([Bullets(notes)] if notes else [])


def _workflows(contract: Contract) -> list[Block]:
    """§3-5 under the guide's own headings; each workflow marked as reconstructed, its inferred
    steps named."""
    blocks: list[Block] = []
    headers = ("#", "Étape", "Acteur", "Action", "Statut OpenFlex", "Statut ICAR", "Règles", "Source")
    for section in contract.workflows_data.sections:
        blocks.append(Heading(2, section.heading))
        if section.proposition:
            blocks.append(Heading(3, section.proposition))
        level = 4 if section.proposition else 3
        for workflow in (w for w in contract.workflows if w.guide_section == section.heading):
            blocks += [Heading(level, workflow_heading(workflow)),
                       Paragraph((Em(f"« {contract.workflows_data.reconstructed} »"), " — destination ",
                                  Code(workflow.destination), ", identifiant ", Code(workflow.id), ".")),
                       Table(headers, tuple(_step_row(contract, index, step)
                                            for index, step in enumerate(workflow.steps, start=1))),
                       Paragraph(("Étapes inférées (le guide ne les énonce pas) : ",
                                  *(_codes_of([s.id for s in workflow.steps if s.inferred]) or ("aucune",)),
                                  "."))]
    return blocks


def workflow_heading(workflow: Workflow) -> str:
    return f"{workflow.title} ({workflow.id})"


def _step_row(contract: Contract, index: int, step: WorkflowStep) -> tuple[Text, ...]:
    icar = contract.icar_statuses[contract.icar_status_after(step)].label
    source: Text = ("guide : ", *_codes_of(list(step.guide))) if step.guide else Em("inférée")
    return (str(index), Code(step.id), Code(step.actor), step.action, contract.statuses[step.status].label,
            icar, ", ".join(step.rules), source)


def _codes(contract: Contract) -> list[Block]:
    rows = tuple((Code(code), str(spec.status), spec.title) for code, spec in contract.codes.items())
    return [Heading(3, ANNEX_TITLES[3]), Table(("Code", "HTTP", "Libellé"), rows)]


def cli(args: Namespace) -> int:
    """`icarflex guide [--profile FILE] [--format md|html] [--output FILE]`."""
    try:
        contract = load_contract()
        settings = load_profile(args.profile, contract)
        text = render_guide(contract, settings, args.format, profile_name=args.profile)
    except ContractError as exc:  # ProfileError is one
        print(exc, file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{args.output}: {exc}", file=sys.stderr)
        return 2
    print(f"guide écrit dans {args.output}", file=sys.stderr)
    return 0
