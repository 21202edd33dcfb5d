"""The one error type a user can cause: its message says what went wrong and what to do."""


class SwarmError(Exception):
    """A problem with the user's input or setup, reported as one line before work starts."""
