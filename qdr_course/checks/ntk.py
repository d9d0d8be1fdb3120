"""Exercise checks for the ntk lessons."""

__all__: list[str] = []
