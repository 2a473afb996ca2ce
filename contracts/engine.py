"""The rule engine: given an actor, a vehicle and a change, which contract rules does it break.

Pure functions over plain values (dicts as the API VO carries them); no Flask, no
HTTP. The fakes call `evaluate` to *enforce* (refuse a write whole when it returns
anything), the checker calls it to *audit* recorded traffic: one implementation.

A vehicle is the JSON of `GET /vehicles/{id}` (status, data fields, reservations);
a change is a JSON merge patch of data fields and/or `status`. For a creation the
vehicle is None and the change is the creation body.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from icarflex.contracts.models import Contract, Transition
from icarflex.contracts.profile import PRICE_SETTING, ApiVoSettings


@dataclass(frozen=True)
class Violation:
    """One broken rule: the error code, the contract rule, the field, the guide's label."""

    code: str
    rule: str | None
    field: str | None
    label: str
    message: str
    row: str | None = None  # the parameterization row involved, when one is

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(contract: Contract, settings: ApiVoSettings, actor: str,
             vehicle: Mapping[str, Any] | None, change: Mapping[str, Any]) -> list[Violation]:
    """Every violation of `change` by `actor` on `vehicle` (None: a creation)."""
    current = dict(vehicle or {})
    touched = {k: v for k, v in change.items() if vehicle is None or current.get(k) != v}
    merged = {**current, **change}
    violations: list[Violation] = []
    if vehicle is None:
        violations += _creation(contract, settings, actor, change)
    violations += _field_rights(contract, settings, actor, touched, creating=vehicle is None)
    violations += _values(contract, settings, touched, merged)
    violations += _purchase_vat(contract, touched, merged, creating=vehicle is None)
    if "status" in touched and vehicle is not None:
        violations += _status_move(contract, settings, actor, current, merged)
    if vehicle is not None and set(touched) - {"status"}:
        # Data fields only: a status move is the transitions' business. Last: a more precise code first.
        violations += _write_window(contract, actor, current)
    return violations


def evaluate_unknown_state(contract: Contract, settings: ApiVoSettings, actor: str,
                           change: Mapping[str, Any]) -> list[Violation]:
    """What can be judged of a change to a vehicle whose state is unknown (a journal captured
    in front of a real system carries no `vehicle_before`): who may write each field (R6, R8,
    R2) and the prices (R7). A status move needs the state and is not judged here."""
    touched = {k: v for k, v in change.items() if k != "status"}
    return (_field_rights(contract, settings, actor, touched, creating=False)
            + _values(contract, settings, touched, touched)
            + _purchase_vat(contract, touched, touched, creating=False))


def order_price_violations(contract: Contract, settings: ApiVoSettings, price: Any) -> list[Violation]:
    """Rule R7 for an Opportunités order's price (vehicle.yaml `order_price_field`)."""
    field = contract.vehicle.order_price_field
    return _values(contract, settings, {field: price}, {}) if field else []


def _label(contract: Contract, field: str) -> str:
    """The guide's French label of a field: its parameterization row, else vehicle.yaml's."""
    row = contract.rows.get(field)
    spec = contract.vehicle.fields.get(field)
    return row.label if row else spec.label if spec and spec.label else field


def _violation(contract: Contract, code: str, rule: str | None, field: str | None,
               message: str, row: str | None = None, label: str | None = None) -> Violation:
    label = label or (_label(contract, field) if field else contract.rules[rule].title if rule else code)
    return Violation(code, rule, field, label, message, row)


def _creation(contract: Contract, settings: ApiVoSettings, actor: str,
              body: Mapping[str, Any]) -> list[Violation]:
    """Rule R1: every vehicle enters in the entry status, created by whom the contract says."""
    entry, rule = contract.entry_status, contract.rule_for("creation")
    transition = contract.transition(None, entry, body.get("destination"))
    assert transition is not None  # the contract's cross-check guarantees it
    out = []
    if not _may_make(settings, actor, transition):
        capability = transition.gated_actors.get(actor)
        if capability:
            out.append(_violation(contract, "VEHICLE_CREATION_NOT_ALLOWED", rule, None,
                                  f"La création de véhicules par le DMS est désactivée ({capability})",
                                  capability))
        else:
            out.append(_violation(contract, "FORBIDDEN", rule, None,
                                  f"L'acteur {actor} ne crée pas de véhicule"))
    if body.get("status", entry) != entry:
        out.append(_violation(contract, "TRANSITION_NOT_ALLOWED", rule, "status",
                              f"Tout véhicule est créé en {contract.statuses[entry].label}"))
    missing = [f for f in contract.vehicle.required_at_creation if body.get(f) is None]
    out += [_violation(contract, "VALIDATION_ERROR", rule, f, "Champ obligatoire à la création")
            for f in missing]
    return out


def _write_window(contract: Contract, actor: str, vehicle: Mapping[str, Any]) -> list[Violation]:
    """Some actors write a vehicle's data only in some statuses (lifeline.yaml `writes_in`)."""
    spec = contract.actor.get(actor)
    if spec is None or spec.writes_in is None or vehicle.get("status") in spec.writes_in:
        return []
    allowed = ", ".join(contract.statuses[s].label for s in spec.writes_in)
    return [_violation(contract, "FORBIDDEN", spec.writes_in_rule, None,
                       f"{spec.label} : écrit un véhicule seulement en {allowed} "
                       f"(statut actuel {vehicle.get('status')})")]


def _may_make(settings: ApiVoSettings, actor: str, transition: Transition) -> bool:
    return transition.may_make(actor, settings)


def _field_rights(contract: Contract, settings: ApiVoSettings, actor: str,
                  touched: Mapping[str, Any], creating: bool) -> list[Violation]:
    """Rules R6 (what the DMS may write), R8 (what is entered in ICAR) and R2 (computed).

    R6 limits *modification*: a DMS allowed to create (capability create_vehicles)
    sets the creation data; whether it may create at all is rule R1.
    """
    rules = contract.rules_data.checks
    out = []
    for name in touched:
        spec = contract.vehicle.fields.get(name)
        row = contract.rows.get(name)
        if spec is None:
            out.append(_violation(contract, "VALIDATION_ERROR", None, name, "Champ inconnu du véhicule"))
        elif spec.read_only:
            out.append(_violation(contract, "FIELD_NOT_MODIFIABLE", rules["computed_fields"], name,
                                  "Donnée calculée par OpenFlex (rapprochement référentiel, publication)"))
        elif actor == contract.dms_actor and not creating and not settings.dms_may_modify(name):
            out.append(_violation(contract, "FIELD_NOT_MODIFIABLE", rules["dms_field_rights"], name,
                                  f"« {row.guide_label if row else name} » : NON dans le paramétrage API VO",
                                  name if row else None))
        elif actor != contract.dms_actor and row is not None and row.entered_in == "ICAR":
            out.append(_violation(contract, "FIELD_NOT_MODIFIABLE", rules["icar_entered_fields"], name,
                                  f"« {row.label} » est saisi dans ICAR", name))
    return out


def _values(contract: Contract, settings: ApiVoSettings, touched: Mapping[str, Any],
            merged: Mapping[str, Any]) -> list[Violation]:
    """Rule R7 (prices ≤ 1) and the cross-field constraints of vehicle.yaml."""
    out = []
    if not settings.low_prices_allowed:
        for name in contract.vehicle.price_fields:
            value = touched.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 1:
                out.append(_violation(contract, "PRICE_NOT_ALLOWED", contract.rule_for("low_prices"), name,
                                      f"Prix de vente ≤ 1 refusé : {PRICE_SETTING} est à NON",
                                      PRICE_SETTING))
    out += _formats(contract, touched, merged)
    for constraint in contract.vehicle.constraints:
        if constraint.field not in touched and constraint.other not in touched:
            continue
        first, second = merged.get(constraint.field), merged.get(constraint.other)
        if first and second and str(first) > str(second):
            out.append(_violation(contract, "VALIDATION_ERROR", None, constraint.field, constraint.message))
    return out


def _formats(contract: Contract, touched: Mapping[str, Any], merged: Mapping[str, Any]) -> list[Violation]:
    """A field with `formats` (the plate: SIV, FNI, foreign) takes a format its `when` allows, checked
    when the field or a field a `when` reads changes (a foreign plate needs an import)."""
    out = []
    for name, spec in contract.vehicle.fields.items():
        value = merged.get(name)
        readers = {name, *(k for fmt in spec.formats or () for k in fmt.when or {})}
        if not spec.formats or not isinstance(value, str) or not readers & set(touched):
            continue
        if not any(re.fullmatch(fmt.pattern, value) and _matches(merged, fmt.when) for fmt in spec.formats):
            accepted = "; ".join(fmt.label + (" si " + ", ".join(f"{k} = {v}" for k, v in fmt.when.items())
                                              if fmt.when else "") for fmt in spec.formats)
            out.append(_violation(contract, "VALIDATION_ERROR", None, name,
                                  f"{value!r} : format non accepté (formats : {accepted})"))
    return out


def _matches(vehicle: Mapping[str, Any], when: Mapping[str, Any] | None) -> bool:
    return all(vehicle.get(k) == v for k, v in (when or {}).items())


def _purchase_vat(contract: Contract, touched: Mapping[str, Any], merged: Mapping[str, Any],
                  creating: bool) -> list[Violation]:
    """Rule R9: the VAT regime comes from the purchase. An origin that fixes it (a private seller:
    margin scheme) refuses the other value; any other origin states it at the creation."""
    field, by = contract.vehicle.vat_field, contract.vehicle.vat_fixed_by
    rule = contract.rule_for("vat_regime")
    if not creating and not {by, field} & set(touched):
        return []
    origin = merged.get(by)
    fixed, value = contract.fixed_vat_recoverable(origin), merged.get(field)
    if fixed is not None and value is not None and value != fixed:
        regime = contract.vat_regime_name(fixed)
        return [_violation(contract, "VALIDATION_ERROR", rule, field,
                           f"Origine {origin} : {contract.vehicle.vat_regimes[regime].label}, "
                           f"{field} = {str(fixed).lower()}")]
    if creating and fixed is None and origin is not None and value is None:
        return [_violation(contract, "VALIDATION_ERROR", rule, field,
                           f"Origine {origin} : le régime de TVA se déclare à l'achat ({field}), "
                           "sans valeur par défaut")]
    return []


def _status_move(contract: Contract, settings: ApiVoSettings, actor: str,
                 current: Mapping[str, Any], merged: Mapping[str, Any]) -> list[Violation]:
    """Rules R3/R4/R5: the lifeline, who moves a vehicle, and each step's preconditions."""
    source, target = current.get("status"), merged["status"]
    # A vehicle without a status is no creation: only `_creation` may enter the lifeline (R1).
    transition = contract.transition(source, target, merged.get("destination")) if source else None
    if transition is None:
        return [_violation(contract, "TRANSITION_NOT_ALLOWED", contract.rule_for("lifeline"), "status",
                           f"{source} → {target} n'est pas sur la ligne de vie "
                           f"de la destination {merged.get('destination')}")]
    if not _may_make(settings, actor, transition):
        capability = transition.gate(actor)
        state = "désactivé" if actor in transition.gated_actors else "activé"
        makers = [a for a in transition.makers if transition.may_make(a, settings)]
        reason = (f"« {contract.rows[capability].label} » {state} dans le paramétrage API VO ({capability})"
                  if capability else f"réservé à {', '.join(makers) or 'personne'}")
        return [_violation(contract, "TRANSITION_NOT_ALLOWED", transition.rules[0], "status",
                           f"{source} → {target} par {actor} : {reason}", capability)]
    return [_precondition(contract, name) for name in unmet_preconditions(contract, transition, merged)]


def _precondition(contract: Contract, name: str) -> Violation:
    pre = contract.lifeline.preconditions[name]
    return _violation(contract, pre.code, pre.rule, pre.field, pre.message, label=pre.label)


def precondition_holds(contract: Contract, name: str, vehicle: Mapping[str, Any]) -> bool:
    """Does the precondition `name` of lifeline.yaml hold on `vehicle`? The one evaluator of the
    typed preconditions: the engine, the seed and the tests all call it."""
    pre = contract.lifeline.preconditions[name]
    if pre.present is not None:
        return vehicle.get(pre.present) not in (None, "")
    if pre.not_in is not None:
        field, values = next(iter(pre.not_in.items()))
        if vehicle.get(field) is None:
            return pre.absent_holds
        return vehicle.get(field) not in values
    return any(_reservation_is(contract, shape, r) for r in vehicle.get("reservations") or []
               for shape in pre.reservation or ())


def unmet_preconditions(contract: Contract, transition: Transition, vehicle: Mapping[str, Any]) -> list[str]:
    """The preconditions of `transition` that do not hold on `vehicle`, in the contract's order."""
    return [name for name in transition.requires if not precondition_holds(contract, name, vehicle)]


def _reservation_is(contract: Contract, shape: str, reservation: Mapping[str, Any]) -> bool:
    if shape == "order":
        return reservation.get("kind") == contract.vehicle.reservations.order
    return is_blocking_reservation(contract, reservation)


def is_blocking_reservation(contract: Contract, reservation: Mapping[str, Any]) -> bool:
    """Rule R5: an unlimited reservation blocking sale and publication."""
    return all(reservation.get(k) == v for k, v in contract.vehicle.reservations.blocking.items())


def has_sale_channel(contract: Contract, reservations: list[Mapping[str, Any]]) -> bool:
    """Rule R5: sold through an Opportunités order, or under the blocking reservation."""
    return any(_reservation_is(contract, shape, r) for r in reservations for shape in ("order", "blocking"))


def is_published(contract: Contract, status: str, reservations: list[Mapping[str, Any]]) -> bool:
    """A vehicle is advertised in a published status unless a reservation blocks publication."""
    return contract.statuses[status].published and not any(
        r.get("blocks_publication") for r in reservations)
