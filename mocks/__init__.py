"""Flask fakes of OpenFlex and ICAR DMS, over shared plumbing in `icarflex.mocks.common`."""
