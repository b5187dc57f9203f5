"""Stripe's form encoding, read back into nested values, and typed access to them.

stripe-python sends `line_items[0][price_data][unit_amount]=2599`, `expand[0]=line_items`,
`metadata[order_id]=B-123`, `created[gte]=1700000000` (form body for POST, query string
for GET; brackets left unescaped). Every value arrives as a string.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from payments.offline.errors import StripeApiError, invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")

Params = dict[str, Any]


def parse_query(query: str) -> Params:
    """Decode a form-encoded string (`a[b][0]=1&c=2`) into nested dicts and lists."""
    return decode_pairs(parse_qsl(query, keep_blank_values=True))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> Params:
    root: Params = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            if part == "":  # `expand[]=...`: append
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise invalid(f"Invalid hash for {raw_key}", param=raw_key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid hash for {raw_key}", param=raw_key)
                node = child
    return {
        key: _listify(value, parent=key) if isinstance(value, dict) else value
        for key, value in root.items()
    }


def _listify(node: Params, *, parent: str) -> Any:
    """Turn `{"0": a, "1": b}` into `[a, b]`, except under `metadata` (any keys allowed)."""
    converted = {
        key: _listify(value, parent=key) if isinstance(value, dict) else value
        for key, value in node.items()
    }
    if parent != "metadata" and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def path(*parts: str | int) -> str:
    """`path("line_items", 0, "quantity")` -> `line_items[0][quantity]`, Stripe's `param`."""
    head, *rest = parts
    return str(head) + "".join(f"[{part}]" for part in rest)


def reject_unknown(params: Mapping[str, Any], allowed: Iterable[str], *, where: str = "") -> None:
    allowed = set(allowed)
    for key in params:
        if key not in allowed:
            name = f"{where}[{key}]" if where else key
            raise invalid(
                f"Received unknown parameter: {name} (the offline Stripe server knows: "
                f"{', '.join(sorted(allowed))})",
                param=name,
            )


def missing_param(param: str) -> StripeApiError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def get_str(
    params: Mapping[str, Any], key: str, *, param: str, required: bool = False, max_length: int = 0
) -> str | None:
    value = params.get(key)
    if value is None:
        if required:
            raise missing_param(param)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {param}", param=param)
    if max_length and len(value) > max_length:
        raise invalid(
            f"Invalid string: {param} must be at most {max_length} characters long", param=param
        )
    return value


def get_int(
    params: Mapping[str, Any],
    key: str,
    *,
    param: str,
    required: bool = False,
    minimum: int | None = None,
) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise missing_param(param)
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid(f"Invalid integer: {value}", param=param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(f"Invalid {param}: must be greater than or equal to {minimum}", param=param)
    return number


def get_bool(params: Mapping[str, Any], key: str, *, param: str, required: bool = False) -> bool:
    """Stripe's form-encoded booleans: `true` or `false`."""
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise missing_param(param)
        return False
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", param=param)
    return value == "true"


def get_dict(params: Mapping[str, Any], key: str, *, param: str) -> dict[str, Any]:
    value = params.get(key)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {param}", param=param)
    return value


def get_list(params: Mapping[str, Any], key: str, *, param: str) -> list[Any]:
    value = params.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise invalid(f"Invalid array: {param}", param=param)
    return value


def get_metadata(params: Mapping[str, Any], key: str = "metadata", *, param: str = "") -> dict:
    """Stripe's metadata rules: at most 50 keys, keys up to 40 and values up to 500 characters.
    An empty value unsets its key (here: leaves it out)."""
    param = param or key
    metadata = get_dict(params, key, param=param)
    if len(metadata) > 50:
        raise invalid("Metadata can have at most 50 keys.", param=param)
    cleaned = {}
    for name, value in metadata.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid metadata value: {path(param, name)}", param=path(param, name))
        if len(name) > 40 or len(value) > 500:
            raise invalid(
                "Metadata keys are at most 40 characters and values at most 500.",
                param=path(param, name),
            )
        if value != "":
            cleaned[name] = value
    return cleaned


def get_expand(params: Mapping[str, Any]) -> list[str]:
    expand = get_list(params, "expand", param="expand")
    if not all(isinstance(item, str) for item in expand):
        raise invalid("Invalid array: expand", param="expand")
    return expand


def reject_expand(params: Mapping[str, Any]) -> None:
    """For an object with nothing the offline server can expand."""
    if get_expand(params):
        raise invalid("This property cannot be expanded.", param="expand")
