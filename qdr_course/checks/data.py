"""Exercise checks for the data lessons."""

__all__: list[str] = []
