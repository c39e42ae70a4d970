"""SSH user authentication over a paramiko transport, the way ``ssh`` does it.

The server is asked first which methods it offers (the ``none`` method), then
these are tried in OpenSSH's order, each only if the server offers it:

1. ``publickey``: the key files given (``key_file``, ``IdentityFile``), then,
   when no password is given, the keys of an SSH agent (``SSH_AUTH_SOCK``) and,
   if no key file was given either, the usual ``~/.ssh/id_*`` files. An
   encrypted key is opened with the passphrase given (never asked for);
2. ``keyboard-interactive``: the first prompt asking for a password gets the
   password; every other prompt (a one-time code, a second password) gets the
   next second-factor answer;
3. ``password``.

A server may accept a method only as one step of several (partial success,
e.g. a key and then a code): the methods it still asks for are tried next.
When all fails, :class:`paramiko.AuthenticationException` says what was tried
and why each attempt failed; no password, passphrase or answer is in it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import paramiko
from paramiko.auth_strategy import (
    AuthResult,
    AuthSource,
    AuthStrategy,
    InMemoryPrivateKey,
    OnDiskPrivateKey,
    Password,
    SourceResult,
)

if TYPE_CHECKING:
    from .sshconnect import SshLogin

LOGGER = logging.getLogger("RemoteProxyLibrary.terminal")

#: The usual key files, tried when neither a password nor a key file is given.
DEFAULT_KEY_FILES = ("~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519")
#: Rounds of keyboard-interactive one login may take (partial successes).
MAX_INTERACTIVE_ROUNDS = 4

#: Answers a keyboard-interactive prompt (not the password): the prompt's text
#: in, the answer out, ``None`` when there is none.
Answerer = Callable[[str], Optional[str]]


class UnusableKey(Exception):
    """A key file that cannot be used (its note says why)."""


def load_key(path: str, passphrase: Optional[str]) -> paramiko.PKey:
    """The private key in ``path``, decrypted with ``passphrase`` if encrypted.

    Raises :class:`UnusableKey` saying what is wrong (missing, encrypted without
    a passphrase, wrong passphrase, not a key).
    """
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise UnusableKey(f"key {path}: no such file") from None
    except PermissionError:
        raise UnusableKey(f"key {path}: not readable") from None
    except TypeError:
        # cryptography: "password-protected, but password was not provided"
        if passphrase is None:
            raise UnusableKey(f"key {path}: encrypted, and no passphrase was given") from None
    except (ValueError, paramiko.SSHException, OSError) as error:
        raise UnusableKey(f"key {path}: not a private key paramiko can read ({error})") from None
    try:
        # bytes, whatever paramiko's annotation says: cryptography wants bytes
        return paramiko.PKey.from_path(path, passphrase.encode("utf-8"))  # type: ignore[arg-type]
    except (TypeError, ValueError, paramiko.SSHException):
        raise UnusableKey(f"key {path}: cannot be decrypted with the passphrase given") from None


class PromptAnswers:
    """The handler of keyboard-interactive prompts, for one login.

    The first prompt that asks for a password gets ``password``; any other
    (a code, or a password asked once more) gets ``answer(prompt)``. Prompts
    left without an answer are noted (and answered with an empty string).
    """

    def __init__(self, password: Optional[str], answer: Optional[Answerer]) -> None:
        self.password = password
        self.answer = answer
        self.password_used = False
        self.unanswered: list[str] = []

    def __call__(self, title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        return [self._one(text) for text, _echo in prompts]

    def _one(self, prompt: str) -> str:
        if self.password is not None and not self.password_used and "password" in prompt.lower():
            self.password_used = True
            LOGGER.debug("keyboard-interactive: %r answered with the password", prompt)
            return self.password
        reply = self.answer(prompt) if self.answer is not None else None
        if reply is None:
            self.unanswered.append(prompt.strip())
            LOGGER.debug("keyboard-interactive: %r left unanswered", prompt)
            return ""
        LOGGER.debug("keyboard-interactive: %r answered with a second-factor answer", prompt)
        return reply


class KeyboardInteractive(AuthSource):
    """The ``keyboard-interactive`` method, prompts answered by a handler."""

    def __init__(self, username: str, handler: PromptAnswers) -> None:
        super().__init__(username=username)
        self.handler = handler

    def authenticate(self, transport: paramiko.Transport) -> list[str]:
        return transport.auth_interactive(self.username, self.handler)


def _method(source: AuthSource) -> str:
    if isinstance(source, Password):
        return "password"
    if isinstance(source, KeyboardInteractive):
        return "keyboard-interactive"
    return "publickey"


def _label(source: AuthSource) -> str:
    if isinstance(source, OnDiskPrivateKey):
        return f"key {source.path}"
    if isinstance(source, InMemoryPrivateKey):
        return f"agent key {source.pkey.get_name()} {source.pkey.fingerprint}"
    return _method(source)


class LoginAuth(AuthStrategy):
    """Authenticates ``login`` (see the module doc); used by
    :meth:`paramiko.SSHClient.connect` through its ``auth_strategy``."""

    def __init__(self, login: SshLogin) -> None:
        super().__init__(ssh_config=paramiko.SSHConfig())
        self.login = login
        self.notes: list[str] = []
        self.answers = PromptAnswers(login.password, login.answer)
        self._agent: Optional[paramiko.Agent] = None

    # ---- the sources, in order -----------------------------------------------------
    def get_sources(self) -> Iterator[AuthSource]:
        login = self.login
        user = login.username
        for path in login.key_files:
            key = self._key(path)
            if key is not None:
                yield OnDiskPrivateKey(user, "python-config", Path(path), key)
        if login.use_agent:
            for agent_key in self._agent_keys():
                yield InMemoryPrivateKey(user, agent_key)
        if login.default_keys:
            for name in DEFAULT_KEY_FILES:
                path = os.path.expanduser(name)
                if os.path.isfile(path):
                    key = self._key(path)
                    if key is not None:
                        yield OnDiskPrivateKey(user, "implicit-home", Path(path), key)
        if login.password is not None or login.answer is not None:
            yield KeyboardInteractive(user, self.answers)
        if login.password is not None:
            password = login.password
            yield Password(user, lambda: password)

    def _key(self, path: str) -> Optional[paramiko.PKey]:
        try:
            return load_key(path, self.login.passphrase)
        except UnusableKey as error:
            self.notes.append(str(error))
            return None

    def _agent_keys(self) -> tuple[Any, ...]:
        if not os.environ.get("SSH_AUTH_SOCK"):
            return ()
        try:
            self._agent = paramiko.Agent()
            keys = tuple(self._agent.get_keys())
        except (paramiko.SSHException, OSError) as error:
            self.notes.append(f"SSH agent: {error}")
            return ()
        if not keys:
            self.notes.append("SSH agent: holds no key")
        return keys

    # ---- trying them -----------------------------------------------------------------
    def authenticate(self, transport: paramiko.Transport) -> AuthResult:
        try:
            return self._authenticate(transport)
        finally:
            if self._agent is not None:
                self._agent.close()
                self._agent = None

    def _authenticate(self, transport: paramiko.Transport) -> AuthResult:
        result = AuthResult(strategy=self)
        username = self.login.username
        try:
            allowed = list(transport.auth_none(username))
        except paramiko.BadAuthenticationType as error:
            allowed = list(error.allowed_types)
        else:
            if not allowed:
                return result  # the server lets this user in without credentials
        offered = list(allowed)
        sources = list(self.get_sources())
        pending = list(sources)
        interactive_rounds = 0
        while True:
            source = next((s for s in pending if _method(s) in allowed), None)
            if source is None:
                break
            pending.remove(source)
            try:
                remaining = source.authenticate(transport)
            except paramiko.BadAuthenticationType as error:
                allowed = list(error.allowed_types)
                result.append(SourceResult(source, error))
                continue
            except paramiko.AuthenticationException as error:
                self.notes.append(f"{_label(source)}: refused")
                result.append(SourceResult(source, error))
                continue
            result.append(SourceResult(source, remaining))
            if not remaining:
                LOGGER.debug("%s: logged in with %s", self.login.describe(), _label(source))
                return result
            LOGGER.debug(
                "%s: %s accepted, the server asks for %s too",
                self.login.describe(),
                _label(source),
                ", ".join(remaining),
            )
            self.notes.append(f"{_label(source)}: accepted as one step")
            allowed = list(remaining)
            if isinstance(source, KeyboardInteractive):
                interactive_rounds += 1
                if interactive_rounds < MAX_INTERACTIVE_ROUNDS:
                    pending.append(source)  # a next round of prompts
        raise paramiko.AuthenticationException(self._failure(offered, sources))

    def _failure(self, offered: list[str], sources: list[AuthSource]) -> str:
        notes = list(self.notes)
        if self.answers.unanswered:
            prompts = ", ".join(repr(p) for p in self.answers.unanswered)
            notes.append(f"no answer for the prompt {prompts} (give a second factor)")
        # With a password no agent or default key is offered: no news then.
        offers_keys = any(_method(s) == "publickey" for s in sources) or any(
            note.startswith("key ") for note in notes
        )
        if "publickey" in offered and not offers_keys and self.login.password is None:
            notes.append("no key to offer")
        asks = {"password", "keyboard-interactive"} & set(offered)
        if asks and self.login.password is None and self.login.answer is None:
            notes.append("no password given")
        why = "; ".join(notes) or "nothing to try"
        return f"authentication failed (the server offers {', '.join(offered)}): {why}"
