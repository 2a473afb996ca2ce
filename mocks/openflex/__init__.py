"""The OpenFlex fake: API VO, modules Véhicules and Opportunités, enforcing the contract.

`create_app(config=None, contract=None)` (icarflex.mocks.openflex.app) builds it; its
service (icarflex.mocks.openflex.service.OpenFlexService) runs every operation over the
repositories of the store (icarflex.mocks.openflex.repositories) and calls the contract's
rule engine on every vehicle write.
"""
