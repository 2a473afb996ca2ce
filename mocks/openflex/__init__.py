"""The OpenFlex fake: API VO, modules Véhicules and Opportunités, enforcing the contract.

`create_app(config=None)` (icarflex.mocks.openflex.app) builds it; the backend
(icarflex.mocks.openflex.backend.OpenFlexBackend) holds the state in SQLite and calls the
contract's rule engine on every vehicle write.
"""
