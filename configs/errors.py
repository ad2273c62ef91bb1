"""The one exception type users see: a single line that names the problem and the fix."""


class SuiteError(Exception):
    """A user-facing failure; CLIs print it as one line and exit non-zero, no traceback."""
