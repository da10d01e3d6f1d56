"""The PySide6 desktop editor. Observes the core graph model; never imported by the core."""
