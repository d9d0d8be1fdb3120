"""Exercise checks for the quantum lessons."""

__all__: list[str] = []
