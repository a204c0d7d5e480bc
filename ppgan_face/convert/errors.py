"""Errors of the checkpoint conversion tools."""


class CheckpointError(ValueError):
    """A checkpoint cannot be read or used.

    ``str(err)`` is a single line that names the file and the problem, ready to be printed to a user.
    """
