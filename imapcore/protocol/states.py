"""The connection states and every rule about them, in one module (RFC 9051 §3, §6).

Two tables, and nothing else in the code base decides these questions:

* ``ALLOWED_STATES``: command name -> the states in which the command is valid. ``Connection`` checks
  it before handing a command out; a command in the wrong state is answered ``tag BAD`` with the reason
  (``wrong_state_text``) and never reaches a handler, so handlers do not re-check the state.
* ``TRANSITIONS``: what the server *sends* moves the state: ``(command, status)`` of a tagged completion,
  plus the untagged PREAUTH greeting and BYE (``UNTAGGED_TRANSITIONS``). A command name or status
  missing from the table leaves the state alone.

The state diagram of RFC 9051 §3::

      greeting OK ──> NOT_AUTHENTICATED ──(LOGIN/AUTHENTICATE OK)──> AUTHENTICATED <──┐
      greeting PREAUTH ─────────────────────────────────────────────> AUTHENTICATED   │ CLOSE/UNSELECT OK,
                     ^                                                      │         │ SELECT/EXAMINE NO
                     └───────────(UNAUTHENTICATE OK, RFC 8437)──────────────┤         │
                                                                (SELECT/EXAMINE OK)   │
                                                                            v         │
                                                                         SELECTED ────┘
      any state ──(BYE, LOGOUT)──> LOGOUT
"""

from __future__ import annotations

from enum import Enum

from .responses import IdentityEnum, Status


class State(IdentityEnum):
    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


NOT_AUTH, AUTH, SELECTED, LOGOUT = State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED, State.LOGOUT

_ANY = frozenset({NOT_AUTH, AUTH, SELECTED})
_NOT_AUTH_ONLY = frozenset({NOT_AUTH})
_AUTH_ONLY = frozenset({AUTH})
_AUTH_OR_SELECTED = frozenset({AUTH, SELECTED})
_SELECTED_ONLY = frozenset({SELECTED})

#: Command name (upper case, as in ``imapcore.syntax.commands``: UID variants share the name) -> states.
ALLOWED_STATES: dict[str, frozenset[State]] = {
    # RFC 9051 §6.1: any state.
    "CAPABILITY": _ANY,
    "NOOP": _ANY,
    "LOGOUT": _ANY,
    "ID": _ANY,  # RFC 2971 §3.1
    # RFC 9051 §6.2: not authenticated state.
    "STARTTLS": _NOT_AUTH_ONLY,
    "AUTHENTICATE": _NOT_AUTH_ONLY,
    "LOGIN": _NOT_AUTH_ONLY,
    # RFC 9051 §6.3.1, RFC 5161 §3.1: ENABLE only in authenticated state, before any SELECT.
    "ENABLE": _AUTH_ONLY,
    # RFC 9051 §6.3: authenticated state (and so also selected state, §6.4).
    "SELECT": _AUTH_OR_SELECTED,
    "EXAMINE": _AUTH_OR_SELECTED,
    "CREATE": _AUTH_OR_SELECTED,
    "DELETE": _AUTH_OR_SELECTED,
    "RENAME": _AUTH_OR_SELECTED,
    "SUBSCRIBE": _AUTH_OR_SELECTED,
    "UNSUBSCRIBE": _AUTH_OR_SELECTED,
    "LIST": _AUTH_OR_SELECTED,
    "LSUB": _AUTH_OR_SELECTED,  # RFC 3501 §6.3.9
    "NAMESPACE": _AUTH_OR_SELECTED,  # RFC 9051 §6.3.10 (RFC 2342)
    "STATUS": _AUTH_OR_SELECTED,
    "APPEND": _AUTH_OR_SELECTED,
    "IDLE": _AUTH_OR_SELECTED,  # RFC 9051 §6.3.13 (RFC 2177)
    "UNAUTHENTICATE": _AUTH_OR_SELECTED,  # RFC 8437 §2
    "COMPRESS": _AUTH_OR_SELECTED,  # RFC 4978 §3
    "GETQUOTA": _AUTH_OR_SELECTED,  # RFC 9208 §4
    "GETQUOTAROOT": _AUTH_OR_SELECTED,
    "SETQUOTA": _AUTH_OR_SELECTED,
    "GETMETADATA": _AUTH_OR_SELECTED,  # RFC 5464 §4
    "SETMETADATA": _AUTH_OR_SELECTED,
    "NOTIFY": _AUTH_OR_SELECTED,  # RFC 5465 §5
    "SETACL": _AUTH_OR_SELECTED,  # RFC 4314 §3
    "DELETEACL": _AUTH_OR_SELECTED,
    "GETACL": _AUTH_OR_SELECTED,
    "LISTRIGHTS": _AUTH_OR_SELECTED,
    "MYRIGHTS": _AUTH_OR_SELECTED,
    "GENURLAUTH": _AUTH_OR_SELECTED,  # RFC 4467 §7
    "RESETKEY": _AUTH_OR_SELECTED,
    "URLFETCH": _AUTH_OR_SELECTED,
    # RFC 9051 §6.4: selected state only.
    "CLOSE": _SELECTED_ONLY,
    "UNSELECT": _SELECTED_ONLY,
    "EXPUNGE": _SELECTED_ONLY,
    "SEARCH": _SELECTED_ONLY,
    "FETCH": _SELECTED_ONLY,
    "STORE": _SELECTED_ONLY,
    "COPY": _SELECTED_ONLY,
    "MOVE": _SELECTED_ONLY,  # RFC 6851
    "CHECK": _SELECTED_ONLY,  # RFC 3501 §6.4.1
    "SORT": _SELECTED_ONLY,  # RFC 5256 §3
    "THREAD": _SELECTED_ONLY,
    "REPLACE": _SELECTED_ONLY,  # RFC 8508 §3.3
    "CANCELUPDATE": _SELECTED_ONLY,  # RFC 5267 §4.2
}


def wrong_state_text(command: str, state: State) -> str:
    """The reason given in ``tag BAD`` for a command sent in a state that does not allow it."""
    allowed = ALLOWED_STATES.get(command)
    if allowed is None:
        return f"Unknown command {command}"
    if state is LOGOUT:
        return f"{command} not allowed: the connection is logging out"
    if allowed == _SELECTED_ONLY:
        return f"{command} requires a selected mailbox"
    if allowed == _NOT_AUTH_ONLY:
        return f"{command} not allowed: already authenticated"
    if allowed == _AUTH_ONLY and state is SELECTED:
        return f"{command} not allowed while a mailbox is selected"
    return f"{command} not allowed before authentication"


def is_allowed(command: str, state: State) -> bool:
    allowed = ALLOWED_STATES.get(command)
    return allowed is not None and state in allowed


#: (command name, status of its tagged completion) -> {state before: state after}.
TRANSITIONS: dict[tuple[str, Status], dict[State, State]] = {
    ("LOGIN", Status.OK): {NOT_AUTH: AUTH},  # RFC 9051 §6.2.3
    ("AUTHENTICATE", Status.OK): {NOT_AUTH: AUTH},  # RFC 9051 §6.2.2
    ("SELECT", Status.OK): {AUTH: SELECTED, SELECTED: SELECTED},  # RFC 9051 §6.3.2
    ("EXAMINE", Status.OK): {AUTH: SELECTED, SELECTED: SELECTED},  # RFC 9051 §6.3.3
    # RFC 9051 §6.3.2: a failed SELECT/EXAMINE leaves no mailbox selected.
    ("SELECT", Status.NO): {SELECTED: AUTH},
    ("EXAMINE", Status.NO): {SELECTED: AUTH},
    ("CLOSE", Status.OK): {SELECTED: AUTH},  # RFC 9051 §6.4.1
    ("UNSELECT", Status.OK): {SELECTED: AUTH},  # RFC 9051 §6.4.2
    ("UNAUTHENTICATE", Status.OK): {AUTH: NOT_AUTH, SELECTED: NOT_AUTH},  # RFC 8437 §2
    ("LOGOUT", Status.OK): {NOT_AUTH: LOGOUT, AUTH: LOGOUT, SELECTED: LOGOUT, LOGOUT: LOGOUT},  # §6.1.3
}

#: Untagged status responses that move the state (RFC 9051 §7.1.4, §7.1.5).
UNTAGGED_TRANSITIONS: dict[Status, State] = {
    Status.PREAUTH: AUTH,  # only valid as the greeting
    Status.BYE: LOGOUT,
}


def next_state(command: str, status: Status, state: State) -> State:
    return TRANSITIONS.get((command, status), {}).get(state, state)


class Effect(Enum):
    """Side effects of a completion on the connection itself (beyond the state)."""

    # RFC 9051 §6.2.1 / RFC 2595 §3.1: bytes that arrived before the TLS handshake are not part of the
    # protected stream and must be thrown away (the STARTTLS command-injection attack, CVE-2011-0411).
    DISCARD_INPUT = "discard buffered input"
    # RFC 8437 §3: extensions enabled by ENABLE (UTF8=ACCEPT among them) cease to be enabled.
    RESET_ENABLED = "reset enabled extensions"


EFFECTS: dict[tuple[str, Status], Effect] = {
    ("STARTTLS", Status.OK): Effect.DISCARD_INPUT,
    ("UNAUTHENTICATE", Status.OK): Effect.RESET_ENABLED,
}
