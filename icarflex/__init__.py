"""icarflex: a contract-testing simulator for the OpenFlex ⇄ ICAR DMS used-vehicle integration.

The one import package of the distribution. The repository keeps the project's layout
(`contracts/`, `mocks/`, `scenarios/` at the top); the packaging installs them as
`icarflex.contracts`, `icarflex.mocks` and `icarflex.scenarios`, so an integrator's own
`mocks/` or `scenarios/` package never collides with ours.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("icarflex")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
