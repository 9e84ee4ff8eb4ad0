"""The one error type: what failed, and what to do next."""


class KrefactorError(Exception):
    """A failure the user can act on. cli.py turns it into a one-line message."""
