"""Example dealer profiles (YAML), shipped with the package: `--profile NAME` finds them by name."""
