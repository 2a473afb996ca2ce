"""The contract's data model: pydantic models that load and validate `contracts/data/`.

Every YAML file of the contract is parsed into these models at load; a typo, an
unknown key or an id that refers to nothing fails fast with a `ContractError`
naming the file and the row. Nothing here knows HTTP or Flask.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DATA_DIR = Path(__file__).parent / "data"
# The checks of the rule engine and the runner; rules.yaml `checks` says which rule each enforces.
CHECKS = ("creation", "computed_fields", "status_mapping", "lifeline", "dms_field_rights", "low_prices",
          "icar_entered_fields", "vat_regime", "desynchronisation")


class ContractError(ValueError):
    """A contract or profile file that does not hold: names the file and the row."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- parameterization (guide §2) -------------------------------------------------
RowKind = Literal["setting", "field", "capability"]


class ParameterRow(Strict):
    id: str
    kind: RowKind
    label: str
    guide_label: str
    guide_value: Literal["OUI", "NON"]
    default: bool
    comment: str
    tbd: bool = False
    note: str | None = None
    inferred_effect: bool = False
    entered_in: Literal["OPENFLEX", "ICAR", "SHARED"] | None = None
    # What the DMS connector loses when a setting or capability row is NON (icarflex diff).
    off_effect: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> ParameterRow:
        if (self.guide_value == "OUI") != self.default:
            raise ValueError(f"default {self.default} contradicts guide_value {self.guide_value}")
        if self.kind == "field" and self.entered_in is None:
            raise ValueError("a field row needs entered_in")
        return self


class Parameterization(Strict):
    section: str
    rows: tuple[ParameterRow, ...]


# --- vehicle fields ---------------------------------------------------------------
FieldType = Literal["string", "integer", "number", "boolean", "date", "enum"]


class ValueFormat(Strict):
    """One accepted format of a string field (a plate: SIV, FNI, foreign), maybe conditional."""

    id: str
    label: str
    pattern: str
    when: dict[str, Any] | None = None  # accepted only when the vehicle's fields hold these values
    source: Literal["guide", "inferred"]
    examples: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _examples_match(self) -> ValueFormat:
        wrong = [e for e in self.examples if not re.fullmatch(self.pattern, e)]
        if wrong:
            raise ValueError(f"format {self.id}: examples {wrong} do not match its pattern")
        return self


class FieldSpec(Strict):
    type: FieldType
    enum: tuple[str, ...] | Literal["statuses"] | None = None
    # With `formats`, the pattern is their union (what a request schema accepts); which format a
    # value may take given the other fields (`when`) is the rule engine's.
    pattern: str | None = None
    formats: tuple[ValueFormat, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    read_only: bool = False
    description: str | None = None
    label: str | None = None  # French label of a field outside the parameterization

    @model_validator(mode="before")
    @classmethod
    def _union_of_formats(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("formats"):
            if raw.get("pattern"):
                raise ValueError("a field has a pattern or formats, not both")
            bodies = [str(f.get("pattern", "")).removeprefix("^").removesuffix("$") for f in raw["formats"]]
            raw = {**raw, "pattern": "^(?:" + "|".join(f"(?:{b})" for b in bodies) + ")$"}
        return raw


class Constraint(Strict):
    kind: Literal["not_after"]
    field: str
    other: str
    message: str


class ReservationSpec(Strict):
    kinds: tuple[str, ...]
    blocking: dict[str, Any]
    order: str

    @model_validator(mode="after")
    def _known_kinds(self) -> ReservationSpec:
        unknown = {self.order, self.blocking.get("kind")} - set(self.kinds)
        if unknown:
            raise ValueError(f"reservation kinds {sorted(map(str, unknown))} are not in kinds")
        return self


class VatRegime(Strict):
    vat_recoverable: bool
    label: str


class TradeInStages(Strict):
    """The stages of a trade-in estimation (vehicle.yaml `trade_in_stages`), values of `field`."""

    field: str
    estimated: str
    recovered: str
    withdrawn: str


class VehicleSpec(Strict):
    fields: dict[str, FieldSpec]
    required_at_creation: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    price_fields: tuple[str, ...]
    reservations: ReservationSpec
    order_price_field: str | None = None
    trade_in_sets: dict[str, Any] = {}
    trade_in_stages: TradeInStages | None = None
    vat_regimes: dict[str, VatRegime] = {}
    vat_by_origin: dict[str, str] = {}  # origin → the regime fixed by it (rule R9)
    vat_field: str = "vat_recoverable"  # the field each regime sets (rule R9)
    vat_fixed_by: str = "origin"        # the field whose value may fix the regime (`vat_by_origin`)

    @model_validator(mode="after")
    def _vat_coherent(self) -> VehicleSpec:
        unknown = set(self.vat_by_origin.values()) - set(self.vat_regimes)
        if unknown:
            raise ValueError(f"vat_by_origin names unknown regimes {sorted(unknown)}")
        named = (self.vat_field, self.vat_fixed_by) if self.vat_regimes else ()
        missing = [f for f in named if f not in self.fields]
        if missing:
            raise ValueError(f"vat_field / vat_fixed_by name no field: {missing}")
        if self.vat_regimes and {r.vat_recoverable for r in self.vat_regimes.values()} != {True, False}:
            raise ValueError("vat_regimes needs one regime with VAT recoverable and one without")
        return self


# --- lifeline ---------------------------------------------------------------------
class Actor(Strict):
    id: str
    label: str
    # The actor the API VO parameterization limits (guide §2): the DMS.
    api_vo: bool = False
    # The statuses in which this actor may write an existing vehicle's data (None: any).
    writes_in: tuple[str, ...] | None = None
    writes_in_rule: str | None = None


class IcarStatus(Strict):
    id: str
    label: str
    source: Literal["guide", "inferred"]


class PendingMapping(Strict):
    """An ICAR status a vehicle may show beside an OpenFlex status while a step is still to be made
    in OpenFlex, under some rows of the parameterization (lifeline.yaml `icar_pending`): allowed
    mid-journal, a finding when a journal ends with it."""

    icar: str
    when: dict[str, bool] = Field(min_length=1)  # parameterization row → the value it must have
    until: str                                   # the OpenFlex status that closes the gap
    source: Literal["guide", "inferred"]
    reason: str                                  # French, for the dealer

    def holds_under(self, settings: Any) -> bool:
        """Do `settings` (`settings[row]` → bool) hold every row of `when`?"""
        return all(settings[row] == value for row, value in self.when.items())


class Status(Strict):
    id: str
    label: str
    icar: str
    source: Literal["guide", "inferred"]
    mapping_source: Literal["guide", "inferred"]
    published: bool = False
    icar_pending: tuple[PendingMapping, ...] = ()


class Transition(Strict):
    from_: str | None
    to: str
    actors: tuple[str, ...]
    gated_actors: dict[str, str] = {}
    gated_off_actors: dict[str, str] = {}  # may make it while that capability is off (inferred)
    destinations: tuple[str, ...] | None = None
    requires: tuple[str, ...] = ()
    rules: tuple[str, ...]
    note: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def may_make(self, actor: str, capabilities: Any) -> bool:
        """May `actor` make this step under these capability values (`capabilities[row]` → bool)?"""
        if actor in self.actors:
            return True
        on, off = self.gated_actors.get(actor), self.gated_off_actors.get(actor)
        return bool((on is not None and capabilities[on]) or (off is not None and not capabilities[off]))

    def gate(self, actor: str) -> str | None:
        """The capability row that decides whether `actor` may make this step, if one does."""
        return self.gated_actors.get(actor) or self.gated_off_actors.get(actor)

    @property
    def makers(self) -> tuple[str, ...]:
        """Every actor who may make this step under some parameterization."""
        return tuple(dict.fromkeys((*self.actors, *self.gated_actors, *self.gated_off_actors)))

    @classmethod
    def from_yaml(cls, row: dict[str, Any]) -> Transition:
        row = dict(row)
        row["from_"] = row.pop("from", None)
        return cls.model_validate(row)


ReservationShape = Literal["order", "blocking"]


class Precondition(Strict):
    """A step's precondition, typed: exactly one of `present`, `not_in`, `reservation`."""

    present: str | None = None
    not_in: dict[str, tuple[str, ...]] | None = None
    reservation: tuple[ReservationShape, ...] | None = None
    code: str
    rule: str
    field: str
    message: str
    label: str | None = None  # French label of `field` when it is not a vehicle field
    absent_holds: bool = False  # not_in: a vehicle without the field meets it (else it does not)

    @model_validator(mode="after")
    def _one_kind(self) -> Precondition:
        kinds = [k for k in ("present", "not_in", "reservation") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a precondition is exactly one of present, not_in, reservation (got {kinds})")
        if self.not_in is not None and len(self.not_in) != 1:
            raise ValueError("not_in names one field")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("present", "not_in", "reservation") if getattr(self, k) is not None)

    @property
    def subject(self) -> str:
        """The vehicle field the precondition reads (`reservations` for a reservation)."""
        if self.present is not None:
            return self.present
        if self.not_in is not None:
            return next(iter(self.not_in))
        return "reservations"


class Lifeline(Strict):
    actors: tuple[Actor, ...]
    icar_statuses: tuple[IcarStatus, ...]
    statuses: tuple[Status, ...]
    lifelines: dict[str, tuple[str, ...]]
    transitions: tuple[Transition, ...]
    preconditions: dict[str, Precondition]


# --- rules and workflows -----------------------------------------------------------
class Rule(Strict):
    id: str
    title: str
    # The rule's sentence: the guide's own words (its §1 points joined, from `points`) for a rule
    # the guide states; ours, in French, for an inferred one.
    guide: str
    source: Literal["guide", "inferred"]
    points: tuple[str, ...] = ()  # the §1 points d'attention it stands on (rules.yaml `preamble`)
    basis: str | None = None  # for an inferred rule: what in the guide it is read from
    references: tuple[str, ...] = ()  # public sources beyond the guide (law, tax doctrine)


class PreamblePoint(Strict):
    """One bullet of the guide's §1 « Points d'attention », word for word (`**…**`: the guide's bold),
    with its sub-bullets."""

    id: str
    text: str
    items: tuple[PreamblePoint, ...] = ()

    def walk(self) -> list[PreamblePoint]:
        return [self, *(p for item in self.items for p in item.walk())]


class ErrorCode(Strict):
    status: int
    title: str


class Rules(Strict):
    section: str
    preamble: tuple[PreamblePoint, ...]
    rules: tuple[Rule, ...]
    checks: dict[str, str]
    codes: dict[str, ErrorCode]

    @model_validator(mode="before")
    @classmethod
    def _sentences_from_points(cls, raw: Any) -> Any:
        """A guide rule's sentence is its points' text, joined: the guide's words are written once."""
        if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
            return raw
        texts: dict[str, str] = {}

        def collect(points: Any) -> None:
            for point in points or ():
                if isinstance(point, dict):
                    text = str(point.get("text", "")).replace("**", "")
                    if text.endswith(":"):  # « pour les étapes : » — its sub-bullets complete it
                        text += " " + ", ".join(str(i.get("text", "")) for i in point.get("items") or ()
                                                if isinstance(i, dict))
                    texts[str(point.get("id"))] = text
                    collect(point.get("items"))
        collect(raw.get("preamble"))
        rules = []
        for rule in raw["rules"]:
            if isinstance(rule, dict) and rule.get("points") and "guide" not in rule:
                missing = [p for p in rule["points"] if p not in texts]
                if missing:
                    raise ValueError(f"rule {rule.get('id')!r}: unknown points {missing}")
                rule = {**rule, "guide": " ".join(texts[p] for p in rule["points"])}
            rules.append(rule)
        return {**raw, "rules": rules}


class WorkflowStep(Strict):
    id: str
    actor: str
    action: str
    status: str
    rules: tuple[str, ...]
    # What in the guide states the step: §1 points (rules.yaml `preamble`) or §2 rows. None: inferred.
    guide: tuple[str, ...] = ()
    # The ICAR status after the step when it is not the mapping's: one pending beside `status`
    # (lifeline.yaml `icar_pending`, e.g. invoiced in ICAR while the exit is OpenFlex's to make).
    icar_status: str | None = None

    @property
    def inferred(self) -> bool:
        return not self.guide


class Workflow(Strict):
    id: str
    title: str
    guide_section: str
    destination: str
    steps: tuple[WorkflowStep, ...]


class GuideSection(Strict):
    """A heading of the guide's §3-5, word for word, and its « Proposition » sub-heading if any."""

    heading: str
    proposition: str | None = None


class Workflows(Strict):
    sections: tuple[GuideSection, ...]
    reconstructed: str  # the mark of a workflow rebuilt because the guide's diagrams are missing
    workflows: tuple[Workflow, ...]


class Labels(Strict):
    """French labels of the pages a dealer reads (labels.yaml): missing ones read as the id."""

    actors: dict[str, str]
    steps: dict[str, str]
    actions: dict[str, str]
    destinations: dict[str, str]
    reservations: dict[str, str]
    sync_outcomes: dict[str, str]
    words: dict[str, str]

    def actor(self, actor_id: str) -> str:
        return self.actors.get(actor_id, actor_id)

    def step(self, step_id: str) -> str:
        return self.steps.get(step_id, step_id)

    def action(self, action_id: str) -> str:
        return self.actions.get(action_id, action_id)

    def destination(self, destination: str | None) -> str:
        return self.destinations.get(destination or "", destination or "—")


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path.name}: not valid YAML: {exc}") from exc


def describe(path: Path, raw: Any, exc: ValidationError) -> str:
    """Say which file and which row (by its id where it has one) failed, and why."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        row = _row_id(raw, loc)
        lines.append(f"{path.name}: {where}{f' (row {row!r})' if row else ''}: {err['msg']}")
    return "\n".join(lines)


def _row_id(raw: Any, loc: list[Any]) -> str | None:
    node, found = raw, None
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


class Contract:
    """The whole contract, loaded from a data directory and cross-checked."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.data_dir = data_dir
        self.parameterization = self._load("parameterization.yaml", Parameterization.model_validate)
        self.vehicle = self._load("vehicle.yaml", VehicleSpec.model_validate)
        self.lifeline = self._load("lifeline.yaml", _lifeline_from_yaml)
        self.rules_data = self._load("rules.yaml", Rules.model_validate)
        self.workflows_data = self._load("workflows.yaml", Workflows.model_validate)
        self.workflows = self.workflows_data.workflows
        self.labels = self._load("labels.yaml", Labels.model_validate)
        self._cross_check()

    def _load(self, name: str, build: Any) -> Any:
        path = self.data_dir / name
        if not path.exists():
            raise ContractError(f"{name}: missing from {self.data_dir}")
        raw = read_yaml(path)
        try:
            return build(raw)
        except ValidationError as exc:
            raise ContractError(describe(path, raw, exc)) from exc

    # -- lookups -----------------------------------------------------------------
    @cached_property
    def rows(self) -> dict[str, ParameterRow]:
        return {row.id: row for row in self.parameterization.rows}

    def rows_fr(self, values: dict[str, bool]) -> str:
        """Rows of the parameterization with a value, as a dealer reads them (« … à NON »)."""
        return ", ".join(f"{self.rows[row].label} à {'OUI' if value else 'NON'}"
                         for row, value in values.items())

    def rows_of(self, kind: RowKind) -> list[ParameterRow]:
        return [row for row in self.parameterization.rows if row.kind == kind]

    @cached_property
    def rules(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules_data.rules}

    def rule_for(self, check: str) -> str:
        """The rule id a check of the engine or the runner enforces (rules.yaml `checks`)."""
        return self.rules_data.checks[check]  # type: ignore[index]

    @cached_property
    def codes(self) -> dict[str, ErrorCode]:
        return self.rules_data.codes

    @cached_property
    def statuses(self) -> dict[str, Status]:
        return {status.id: status for status in self.lifeline.statuses}

    @cached_property
    def icar_statuses(self) -> dict[str, IcarStatus]:
        return {status.id: status for status in self.lifeline.icar_statuses}

    @cached_property
    def actors(self) -> tuple[str, ...]:
        return tuple(actor.id for actor in self.lifeline.actors)

    @cached_property
    def actor(self) -> dict[str, Actor]:
        return {actor.id: actor for actor in self.lifeline.actors}

    @cached_property
    def dms_actor(self) -> str:
        """The actor the API VO parameterization limits (lifeline.yaml `api_vo`)."""
        return next(actor.id for actor in self.lifeline.actors if actor.api_vo)

    @cached_property
    def entry_status(self) -> str:
        return next(t.to for t in self.lifeline.transitions if t.from_ is None)

    @cached_property
    def workflow(self) -> dict[str, Workflow]:
        return {workflow.id: workflow for workflow in self.workflows}

    def enum_values(self, field: str) -> tuple[str, ...]:
        spec = self.vehicle.fields[field]
        if spec.enum == "statuses":
            return tuple(self.statuses)
        return tuple(spec.enum or ())

    def vat_regime_name(self, vat_recoverable: bool) -> str:
        """The VAT regime whose VAT is (or is not) recoverable (vehicle.yaml `vat_regimes`)."""
        return next(name for name, regime in self.vehicle.vat_regimes.items()
                    if regime.vat_recoverable == vat_recoverable)

    def fixed_vat_recoverable(self, origin: str | None) -> bool | None:
        """The VAT an origin fixes (a private seller: margin scheme, rule R9), else None: the
        purchase states it."""
        regime = self.vehicle.vat_by_origin.get(origin or "")
        return None if regime is None else self.vehicle.vat_regimes[regime].vat_recoverable

    def icar_status_for(self, openflex_status: str) -> str:
        """The many-to-one mapping OpenFlex → ICAR (guide §1, rule R3)."""
        return self.statuses[openflex_status].icar

    def icar_statuses_for(self, openflex_status: str, settings: Any = None, *,
                          final: bool = False) -> tuple[str, ...]:
        """The ICAR statuses rule R3 accepts beside `openflex_status` under `settings` (a dealer's
        parameterization, `settings[row]` → bool): the mapping's, then each pending one whose rows
        hold (lifeline.yaml `icar_pending`) — not at the end of a journal (`final`), where a step
        still to be made in OpenFlex is a finding."""
        status = self.statuses[openflex_status]
        pending = () if final or settings is None else tuple(
            p.icar for p in status.icar_pending if p.holds_under(settings))
        return (status.icar, *pending)

    def icar_status_after(self, step: WorkflowStep) -> str:
        """The ICAR status a workflow step leaves: its own (a pending one), else the mapping's."""
        return step.icar_status or self.icar_status_for(step.status)

    def pending_mapping(self, openflex_status: str, icar_status: str, settings: Any) -> PendingMapping | None:
        """The pending mapping that lets ICAR show `icar_status` beside `openflex_status` under
        `settings`, if one does."""
        status = self.statuses.get(openflex_status)
        return next((p for p in (status.icar_pending if status else ())
                     if p.icar == icar_status and p.holds_under(settings)), None)

    def transition(self, from_: str | None, to: str, destination: str | None) -> Transition | None:
        for t in self.lifeline.transitions:
            if t.from_ == from_ and t.to == to:
                if t.destinations is None or destination in t.destinations:
                    return t
        return None

    # -- cross-file integrity ----------------------------------------------------
    def _cross_check(self) -> None:
        problems = [*self._check_unique(), *self._check_parameterization(), *self._check_transitions(),
                    *self._check_statuses(), *self._check_actors(),
                    *self._check_rule_checks(), *self._check_vehicle_data(), *self._check_workflows()]
        if problems:
            raise ContractError("\n".join(problems))

    def _check_unique(self) -> list[str]:
        id_lists = {
            "parameterization.yaml: row": [row.id for row in self.parameterization.rows],
            "rules.yaml: rule": [rule.id for rule in self.rules_data.rules],
            "lifeline.yaml: status": [status.id for status in self.lifeline.statuses],
            "lifeline.yaml: ICAR status": [status.id for status in self.lifeline.icar_statuses],
            "lifeline.yaml: actor": [actor.id for actor in self.lifeline.actors],
            "workflows.yaml: workflow": [workflow.id for workflow in self.workflows],
        }
        for workflow in self.workflows:
            id_lists[f"workflows.yaml: workflow {workflow.id!r} step"] = [step.id for step in workflow.steps]
        return [f"{where} {row_id!r}: duplicate id" for where, ids in id_lists.items()
                for row_id, count in Counter(ids).items() if count > 1]

    def _check_vehicle_data(self) -> list[str]:
        problems = [f"vehicle.yaml: trade_in_sets: unknown field {name!r}"
                    for name in self.vehicle.trade_in_sets if name not in self.vehicle.fields]
        problems += [f"vehicle.yaml: trade_in_sets.{name}: {value!r} not one of {self.enum_values(name)}"
                     for name, value in self.vehicle.trade_in_sets.items()
                     if name in self.vehicle.fields and self.vehicle.fields[name].type == "enum"
                     and value not in self.enum_values(name)]
        origins = self.enum_values("origin")
        stages = self.vehicle.trade_in_stages
        if stages is not None:
            spec = self.vehicle.fields.get(stages.field)
            if spec is None or not spec.read_only:
                problems.append(f"vehicle.yaml: trade_in_stages.field {stages.field!r}: "
                                "not a read-only field")
            else:
                problems += [f"vehicle.yaml: trade_in_stages: {v!r} is not a {stages.field} value"
                             for v in (stages.estimated, stages.recovered, stages.withdrawn)
                             if v not in self.enum_values(stages.field)]
        order = self.vehicle.order_price_field
        if order is not None and order not in self.vehicle.price_fields:
            problems.append(f"vehicle.yaml: order_price_field {order!r} is not one of price_fields")
        problems += [f"vehicle.yaml: fields.{name}.formats.{fmt.id}: when: unknown field {other!r}"
                     for name, spec in self.vehicle.fields.items() for fmt in spec.formats or ()
                     for other in fmt.when or {} if other not in self.vehicle.fields]
        return problems + [f"vehicle.yaml: vat_by_origin: {origin!r} is not an origin"
                           for origin in self.vehicle.vat_by_origin if origin not in origins]

    def _check_parameterization(self) -> list[str]:
        fields = self.vehicle.fields
        problems = [f"parameterization.yaml: row {row.id!r}: no such field in vehicle.yaml"
                    for row in self.rows_of("field") if row.id not in fields]
        problems += [f"vehicle.yaml: unknown field {name!r}"
                     for name in (*self.vehicle.required_at_creation, *self.vehicle.price_fields)
                     if name not in fields]
        return problems

    def _check_transitions(self) -> list[str]:
        problems: list[str] = []
        for t in self.lifeline.transitions:
            row = f"lifeline.yaml: transition {t.from_}->{t.to}"
            problems += [f"{row}: unknown status {s!r}" for s in (t.from_, t.to)
                         if s is not None and s not in self.statuses]
            problems += [f"{row}: unknown actor {a!r}" for a in t.makers if a not in self.actors]
            problems += [f"{row}: gated on unknown capability {c!r}"
                         for c in (*t.gated_actors.values(), *t.gated_off_actors.values())
                         if c not in self.rows or self.rows[c].kind != "capability"]
            problems += [f"{row}: unknown rule {r!r}" for r in t.rules if r not in self.rules]
            problems += [f"{row}: unknown precondition {p!r}"
                         for p in t.requires if p not in self.lifeline.preconditions]
            problems += [f"{row}: unknown destination {d!r}" for d in t.destinations or ()
                         if d not in self.enum_values("destination")]
        for destination, line in self.lifeline.lifelines.items():
            if destination not in self.enum_values("destination"):
                problems.append(f"lifeline.yaml: lifeline {destination!r}: unknown destination")
            for a, b in pairwise(line):
                if self.transition(a, b, destination) is None:
                    problems.append(f"lifeline.yaml: lifeline {destination!r}: no transition {a}->{b}")
        for name, pre in self.lifeline.preconditions.items():
            if pre.rule not in self.rules:
                problems.append(f"lifeline.yaml: precondition {name!r}: unknown rule {pre.rule!r}")
            if pre.code not in self.codes:
                problems.append(f"lifeline.yaml: precondition {name!r}: unknown code {pre.code!r}")
            if pre.kind != "reservation" and pre.subject not in self.vehicle.fields:
                problems.append(f"lifeline.yaml: precondition {name!r}: unknown field {pre.subject!r}")
            problems += [f"lifeline.yaml: precondition {name!r}: {value!r} is not a {field} value"
                         for field, values in (pre.not_in or {}).items() if field in self.vehicle.fields
                         for value in values if value not in self.enum_values(field)]
        return problems

    def _check_rule_checks(self) -> list[str]:
        checks = self.rules_data.checks
        problems = [f"rules.yaml: checks: {name!r} names no rule" for name in CHECKS if name not in checks]
        problems += [f"rules.yaml: checks.{name}: no such check (one of {', '.join(CHECKS)})"
                     for name in checks if name not in CHECKS]
        return problems + [f"rules.yaml: checks.{name}: unknown rule {rule!r}"
                           for name, rule in checks.items() if rule not in self.rules]

    def _check_actors(self) -> list[str]:
        problems: list[str] = []
        if sum(actor.api_vo for actor in self.lifeline.actors) != 1:
            problems.append("lifeline.yaml: actors: exactly one actor must be api_vo (the DMS)")
        for actor in self.lifeline.actors:
            row = f"lifeline.yaml: actor {actor.id!r}"
            problems += [f"{row}: writes_in unknown status {s!r}" for s in actor.writes_in or ()
                         if s not in self.statuses]
            if actor.writes_in is not None and actor.writes_in_rule not in self.rules:
                problems.append(f"{row}: writes_in_rule must name a rule of rules.yaml")
        return problems

    def _check_statuses(self) -> list[str]:
        problems = [f"lifeline.yaml: status {status.id!r}: unknown ICAR status {status.icar!r}"
                    for status in self.lifeline.statuses if status.icar not in self.icar_statuses]
        for status in self.lifeline.statuses:
            for pending in status.icar_pending:
                row = f"lifeline.yaml: status {status.id!r}: icar_pending {pending.icar!r}"
                if pending.icar not in self.icar_statuses:
                    problems.append(f"{row}: unknown ICAR status")
                problems += [f"{row}: when: {r!r} is not a row of parameterization.yaml"
                             for r in pending.when if r not in self.rows]
                if not any(t.from_ == status.id and t.to == pending.until for t in self.lifeline.transitions):
                    problems.append(f"{row}: until: no transition {status.id}->{pending.until}")
        return problems

    @cached_property
    def preamble_points(self) -> dict[str, PreamblePoint]:
        return {p.id: p for top in self.rules_data.preamble for p in top.walk()}

    def _check_workflows(self) -> list[str]:
        problems: list[str] = []
        headings = [section.heading for section in self.workflows_data.sections]
        for workflow in self.workflows:
            if workflow.guide_section not in headings:
                problems.append(f"workflows.yaml: workflow {workflow.id!r}: guide_section "
                                f"{workflow.guide_section!r} is not one of sections")
            problems += [f"workflows.yaml: workflow {workflow.id!r} step {step.id!r}: guide {ref!r} is "
                         "neither a §1 point (rules.yaml preamble) nor a §2 row"
                         for step in workflow.steps for ref in step.guide
                         if ref not in self.preamble_points and ref not in self.rows]
        for workflow in self.workflows:
            if workflow.destination not in self.enum_values("destination"):
                problems.append(f"workflows.yaml: workflow {workflow.id!r}: "
                                f"unknown destination {workflow.destination!r}")
            previous: str | None = None
            destination = workflow.destination
            for step in workflow.steps:
                row = f"workflows.yaml: workflow {workflow.id!r} step {step.id!r}"
                if step.actor not in self.actors:
                    problems.append(f"{row}: unknown actor {step.actor!r}")
                problems += [f"{row}: unknown rule {r!r}" for r in step.rules if r not in self.rules]
                if step.status not in self.statuses:
                    problems.append(f"{row}: unknown status {step.status!r}")
                elif step.icar_status is not None and step.icar_status not in {
                        p.icar for p in self.statuses[step.status].icar_pending}:
                    problems.append(f"{row}: icar_status {step.icar_status!r} is no icar_pending of "
                                    f"{step.status} (lifeline.yaml)")
                elif step.status != previous and not self.transition(previous, step.status, destination):
                    problems.append(f"{row}: {previous}->{step.status} is not a transition "
                                    f"for destination {workflow.destination!r}")
                previous = step.status if step.status in self.statuses else previous
        return problems


def _lifeline_from_yaml(raw: dict[str, Any]) -> Lifeline:
    if not isinstance(raw, dict):
        raise ContractError("lifeline.yaml: expected a mapping")
    raw = dict(raw)
    transitions = []
    for index, row in enumerate(raw.get("transitions") or []):
        if not isinstance(row, dict):
            raise ContractError(f"lifeline.yaml: transitions.{index}: expected a mapping, got {row!r}")
        try:
            transitions.append(Transition.from_yaml(row))
        except ValidationError as exc:
            raise ContractError(f"lifeline.yaml: transitions.{index} "
                                f"({row.get('from')}->{row.get('to')}): {exc.errors()[0]['msg']} "
                                f"at {'.'.join(map(str, exc.errors()[0]['loc']))}") from exc
    raw["transitions"] = transitions
    return Lifeline.model_validate(raw)


_DEFAULT: Contract | None = None


def load_contract(data_dir: Path | None = None) -> Contract:
    """The contract in `data_dir`, or the packaged one (loaded once and shared)."""
    global _DEFAULT
    if data_dir is not None:
        return Contract(Path(data_dir))
    if _DEFAULT is None:
        _DEFAULT = Contract()
    return _DEFAULT
