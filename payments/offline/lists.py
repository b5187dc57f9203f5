"""What Stripe's list endpoints share: the `created` filter and cursor pagination."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Model, Q, QuerySet

from payments.offline import params as p
from payments.offline.errors import invalid


def filter_created(queryset: QuerySet, params: Mapping[str, Any]) -> QuerySet:
    """`created=<ts>` or `created[gt|gte|lt|lte]=<ts>`."""
    created = params.get("created")
    if created is None:
        return queryset
    if isinstance(created, str):
        return queryset.filter(created=p.get_int(params, "created", param="created"))
    if not isinstance(created, dict):
        raise invalid("Invalid created: an integer or a hash of gt, gte, lt, lte", param="created")
    p.reject_unknown(created, {"gt", "gte", "lt", "lte"}, where="created")
    for op in created:
        bound = p.get_int(created, op, param=f"created[{op}]")
        if bound is not None:
            queryset = queryset.filter(**{f"created__{op}": bound})
    return queryset


def paginate(
    queryset: QuerySet, params: Mapping[str, Any], *, object_name: str
) -> tuple[list[Any], bool]:
    """Stripe's cursor pagination, newest first (`created`, then insertion order): one page
    and whether there is more beyond it, in the direction of travel."""
    limit = p.get_int(params, "limit", param="limit", minimum=1)
    if limit is None:
        limit = 10
    if limit > 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    after = p.get_str(params, "starting_after", param="starting_after")
    before = p.get_str(params, "ending_before", param="ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    if after:
        cursor = _cursor(queryset, after, param="starting_after", object_name=object_name)
        older = Q(created__lt=cursor.created) | Q(created=cursor.created, id__lt=cursor.id)
        rows = queryset.filter(older).order_by("-created", "-id")
    elif before:
        # Walk up from the cursor, oldest first, then show the page newest first.
        cursor = _cursor(queryset, before, param="ending_before", object_name=object_name)
        newer = Q(created__gt=cursor.created) | Q(created=cursor.created, id__gt=cursor.id)
        rows = queryset.filter(newer).order_by("created", "id")
    else:
        rows = queryset.order_by("-created", "-id")
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return (page[::-1] if before else page), has_more


def _cursor(queryset: QuerySet, stripe_id: str, *, param: str, object_name: str) -> Model:
    cursor = queryset.model.objects.filter(stripe_id=stripe_id).first()
    if cursor is None:
        raise invalid(f"No such {object_name}: '{stripe_id}'", param=param, code="resource_missing")
    return cursor
