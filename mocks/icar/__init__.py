"""The ICAR DMS fake: its used-vehicle stock (DMS records, livre de police, FREVO, invoices)
and the connector that pushes DMS events to the OpenFlex API VO over the one HTTP transport
(`icarflex.mocks.common.transport`).

`create_app(config=None)` in `icarflex.mocks.icar.app`; the backend (no Flask) in `state`.
"""
