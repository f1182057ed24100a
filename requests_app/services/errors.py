"""Errors the services raise: a stable code, a message in Chinese and in English, a status."""


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self, message: str, message_en: str, *, code: str | None = None, fields: dict | None = None
    ):
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        if code:
            self.code = code
        self.fields = fields or {}

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "message_en": self.message_en}
        if self.fields:
            body["fields"] = self.fields
        return body


class InvalidInput(ServiceError):
    status = 400
    code = "invalid"


class ActionForbidden(ServiceError):
    status = 403
    code = "forbidden"


class CaseNotFound(ServiceError):
    status = 404
    code = "not_found"


class TransitionRefused(ServiceError):
    """The case's state does not allow this step now (or it was already taken once)."""

    status = 409
    code = "transition_not_allowed"


class ConcurrentChange(ServiceError):
    """Someone else changed the case first; reload and try again."""

    status = 409
    code = "conflict"


class DuplicateRecord(ServiceError):
    """The same file (SHA-256) is already one of the case's records."""

    status = 409
    code = "duplicate_record"


class FileTooLarge(ServiceError):
    status = 413
    code = "too_large"
