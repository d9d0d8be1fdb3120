"""Exercise checks for the grader lessons."""

__all__: list[str] = []
