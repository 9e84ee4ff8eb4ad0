"""The one error type: what failed, and what to do next."""


class KrefactorError(Exception):
    """A failure the user can act on. cli.py turns it into a one-line message."""
    exit_code = 1


class BadInput(KrefactorError):
    """Input krefactor cannot use as given (a semantic patch that is missing,
    does not parse, or has no patch mode): exit 2, like a usage error."""
    exit_code = 2
