"""Example dealer profiles (YAML), shipped with the package: `--profile NAME` finds them by name."""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def names() -> list[str]:
    """The shipped profiles' names (file names without `.yaml`)."""
    return sorted(path.stem for path in HERE.glob("*.yaml"))


def path_of(profile: str) -> str:
    """`profile` as given when it is a file; else the shipped profile of that name (`.yaml` optional).

    An unknown name is returned unchanged, so the loader reports the missing file as it is written.
    """
    if Path(profile).is_file() or "/" in profile or "\\" in profile:
        return profile
    shipped = HERE / (profile if profile.endswith((".yaml", ".yml")) else f"{profile}.yaml")
    return str(shipped) if shipped.is_file() else profile
