"""The error tree. Every class carries the stable wire code that clients see.

    AssistError (code "internal_error")
    ├── ProtocolError
    │   ├── InvalidJSON          "invalid_json"      frame is not a JSON object
    │   ├── InvalidFormat        "invalid_format"    missing / wrong-typed fields
    │   ├── UnknownCommand       "unknown_command"   unknown message type
    │   ├── IdReuse              "id_reuse"          id not greater than the previous one
    │   └── MessageTooLarge      "message_too_large" frame over the size limit
    ├── AuthError
    │   ├── AuthRequired         "auth_required"     command before auth
    │   └── Unauthorized         "unauthorized"      the role may not use this command
    ├── NotFound                 "not_found"         unknown call / escalation / fault id
    ├── Conflict                 "conflict"          e.g. call already ended, already exists
    ├── TooManyCalls             "too_many_calls"    the user holds the most live calls allowed
    └── ValidationFailed         "validation_failed" a record that the pack's checklist rejects

One function in the shell maps these to replies; anything else is an internal error
and is the only case that logs a traceback.
"""

from __future__ import annotations

from typing import Any


class AssistError(Exception):
    code = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class ProtocolError(AssistError):
    code = "invalid_format"


class InvalidJSON(ProtocolError):
    code = "invalid_json"


class InvalidFormat(ProtocolError):
    code = "invalid_format"


class UnknownCommand(ProtocolError):
    code = "unknown_command"


class IdReuse(ProtocolError):
    code = "id_reuse"


class MessageTooLarge(ProtocolError):
    code = "message_too_large"


class AuthError(AssistError):
    code = "unauthorized"


class AuthRequired(AuthError):
    code = "auth_required"


class Unauthorized(AuthError):
    code = "unauthorized"


class NotFound(AssistError):
    code = "not_found"


class Conflict(AssistError):
    code = "conflict"


class TooManyCalls(AssistError):
    code = "too_many_calls"


class ValidationFailed(AssistError):
    code = "validation_failed"


ERROR_CODES: tuple[str, ...] = (
    "internal_error",
    "invalid_json",
    "invalid_format",
    "unknown_command",
    "id_reuse",
    "message_too_large",
    "auth_required",
    "unauthorized",
    "not_found",
    "conflict",
    "too_many_calls",
    "validation_failed",
)
"""Every code a client can see; docs/protocol.md documents each (a test keeps them in step)."""
