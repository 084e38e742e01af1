"""Emulators: each device's wire protocol on a real pseudo-terminal, for demos, tests and installers."""
