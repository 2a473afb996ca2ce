"""`icarflex proxy`: a contract-auditing reverse proxy in front of a real OpenFlex (or ICAR).

The connector under test points at the proxy; the proxy forwards every request and
answer unchanged to the target, judges each call with the contract's rule engine
(`icarflex.contracts`, through the checker's `Auditor`), writes the journal `icarflex
check` reads and prints a live verdict per call. `--enforce` answers a forbidden call
with the fakes' own problem+json without reaching the target.

`mapping` (the target's wire names), `judge` (the verdict of a call), `upstream` (the
forwarding transport), `journal` (JSON lines), `app` (the WSGI app), `command` (the CLI).
"""
