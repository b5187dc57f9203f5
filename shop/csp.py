"""Content-Security-Policy helpers that settings.py needs before Django is set up."""

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

import django

_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@cache
def admin_inline_style_hashes() -> tuple[str, ...]:
    """CSP hash sources for the static inline <style> blocks of Django's admin templates.

    The admin has one (change_list.html, for a model without actions). Hashing Django's own
    template keeps the policy right when Django changes it, without 'unsafe-inline'. A block
    containing template syntax could not be hashed in advance: there is none, and a test
    says so.
    """
    templates = Path(django.__file__).parent / "contrib" / "admin" / "templates"
    sources = []
    for template in sorted(templates.rglob("*.html")):
        for block in _INLINE_STYLE.findall(template.read_text(encoding="utf-8")):
            if "{{" in block or "{%" in block:
                continue
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return tuple(sources)
