"""Errors in Stripe's JSON shape, so that the stripe library raises its own exceptions
(`InvalidRequestError` for 400/404, `AuthenticationError` for 401, `IdempotencyError`...)."""

from typing import Any


class StripeApiError(Exception):
    """An API error answered as `{"error": {"type": ..., "message": ..., "param": ...}}`."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",  # Stripe's field name
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    return StripeApiError(message, param=param, code=code)


def missing(object_name: str, stripe_id: str, *, param: str) -> StripeApiError:
    """Stripe's 404 for an unknown id: `No such checkout.session: 'cs_test_...'`."""
    return StripeApiError(
        f"No such {object_name}: '{stripe_id}'",
        status=404,
        param=param,
        code="resource_missing",
    )
