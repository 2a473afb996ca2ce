"""The business workflows as data, their runner, the journal checker, the reports and the CLI."""
