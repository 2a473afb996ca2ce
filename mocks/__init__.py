"""Flask fakes of OpenFlex and ICAR DMS, over shared plumbing in `mocks.common`."""
