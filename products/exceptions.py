"""The catalogue's errors, turned into answers by its views."""


class InvalidIds(ValueError):
    """The `ids` parameter cannot be read; the message is shown to the caller, in French."""
