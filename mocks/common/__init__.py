"""Plumbing shared by both fakes: config, API-key auth, problem+json errors, the SQLite
store, the request journal, fault injection, the admin blueprint and the OpenAPI registry.

Each fake builds its app with `build_app(...)` and declares its operations on an
`Api`; nothing here knows vehicles or the contract's rules.
"""
