"""The proxy's wire mapping: `icarflex.mocks.common.wire`, shared with every client (the ICAR
connector, the scenario runner, `verify`)."""
from __future__ import annotations

from icarflex.mocks.common.wire import PREFIX, RESOURCES, MappingError, WireMapping, load_mapping

__all__ = ["PREFIX", "RESOURCES", "MappingError", "WireMapping", "load_mapping"]
