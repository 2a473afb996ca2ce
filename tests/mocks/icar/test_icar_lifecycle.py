"""The DMS side reads its statuses and pushed fields from the contract, not from literals."""
from __future__ import annotations

import pytest
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.mocks.icar.lifecycle import lifecycle, vat_regime_name

CONTRACT = load_contract()
LIFE = lifecycle(CONTRACT)


def test_dms_statuses_are_the_contract_icar_statuses_in_lifeline_order():
    assert LIFE.icar_statuses == tuple(CONTRACT.icar_statuses)


@pytest.mark.parametrize(("openflex", "icar"), [
    (LIFE.openflex_entry, LIFE.arrival), (LIFE.physical_entry, LIFE.stock), (LIFE.exit, LIFE.invoiced)])
def test_each_pushed_status_maps_to_the_dms_status_it_leaves_the_record_in(openflex, icar):
    assert CONTRACT.icar_status_for(openflex) == icar


def test_physical_entry_and_exit_are_moves_the_contract_gives_the_dms():
    entry = CONTRACT.transition(LIFE.openflex_entry, LIFE.physical_entry, None)
    assert entry is not None and "dms" in entry.actors
    exits = [t for t in CONTRACT.lifeline.transitions if t.to == LIFE.exit]
    assert exits and all("dms" in (*t.actors, *t.gated_actors) for t in exits)


@pytest.mark.parametrize("field", [LIFE.police_field, LIFE.mileage_field, LIFE.frevo_field, LIFE.vat_field,
                                   LIFE.invoiced_price_field, "status"])
def test_every_field_the_connector_pushes_is_dms_modifiable_by_default(field):
    assert ApiVoSettings.defaults(CONTRACT).dms_may_modify(field)


def test_a_private_sellers_car_is_always_under_the_margin_scheme():
    assert CONTRACT.fixed_vat_recoverable("PARTICULIER") is False
    assert vat_regime_name(False) == "MARGE" and vat_regime_name(True) == "NORMAL"


def test_a_professional_purchase_has_no_default_vat():
    assert CONTRACT.fixed_vat_recoverable("PROFESSIONNEL") is None
    assert CONTRACT.fixed_vat_recoverable(None) is None
