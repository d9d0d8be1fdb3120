"""Exercise checks for the welcome lessons."""

__all__: list[str] = []
