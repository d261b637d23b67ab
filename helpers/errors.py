"""The one exception type for mistakes a student can fix: bad names, missing data, bad values.

Its message says what was wrong, what is valid and what to do. The command line prints it
without a traceback; in a notebook it is the last line of a short traceback.
"""

import difflib


class LabError(Exception):
    """A problem with the input or the environment, explained in its message."""


def did_you_mean(name: str, valid) -> str:
    """' Did you mean X?' when `name` is close to one valid choice, else ''."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
