"""The one exception type that the command line prints as a single line (no traceback) with exit status 2."""


class UserError(Exception):
    """A problem with the user's input or environment; the message names the file or value and the fix."""
