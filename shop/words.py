"""French wording shared by messages, pages and e-mails."""

import re

_INNER_GUILLEMETS = re.compile(r"«\s*(.*?)\s*»", re.DOTALL)


def guillemets(text: str) -> str:
    """`text` between French guillemets; guillemets already in it become “ ”, as French
    nests quotations: « Gravure “Jardin des Plantes” », never « Gravure « Jardin… » »."""
    nested = _INNER_GUILLEMETS.sub(r"“\1”", str(text))
    return f"« {nested} »"
