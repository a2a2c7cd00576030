"""Reaching a running cluster before Ray is handed its address: something must listen there,
and the cluster must admit this driver.

A cluster started with token authentication (`RAY_AUTH_MODE=token`) refuses a driver without
its token; Ray itself then retries for about 20 s and reports only "Failed to connect to Ray
cluster at HOST:PORT". Here one request to the cluster's control service (its GCS) tells, in
half a second, whether the token is missing, wrong or taken, and the line says what to set.
Ray reads the token from RAY_AUTH_TOKEN, else the file RAY_AUTH_TOKEN_PATH names, else
~/.ray/auth_token, and only when RAY_AUTH_MODE=token.
"""

import os
import socket

from mnist_edge.scale.cluster import ENVIRONMENT, native_stderr_to

PROBE_SECONDS = 5  # to reach a cluster's head before handing it to Ray
TOKEN = "RAY_AUTH_TOKEN to the cluster's token (`ray get-auth-token` on the head prints it)"


def probe(address: str) -> None:
    """ConnectionError unless a Ray cluster answers at `address` and admits this driver;
    ValueError when `address` is not HOST:PORT, ray://HOST:PORT or auto."""
    if address == "auto":  # Ray finds the cluster `ray start` made on this machine
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:  # Ray itself would retry for minutes
        socket.create_connection((host.strip("[]"), int(port)), PROBE_SECONDS).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConnectionError(f"no Ray cluster answers at {address} ({reason})") from None
    if not address.startswith("ray://"):  # a Ray Client server is not the GCS
        admitted(address)


def admitted(address: str) -> None:
    """ConnectionError, naming what to set, unless the cluster whose GCS is at `address`
    takes this driver's token (or needs none)."""
    os.environ.update(ENVIRONMENT)
    # Ray's own GCS client and token loader, as its `ray` command uses them
    from ray._raylet import AuthenticationMode, GcsClient, get_authentication_mode
    from ray.exceptions import AuthenticationError, RpcError

    token_mode = get_authentication_mode() == AuthenticationMode.TOKEN
    with native_stderr_to(os.devnull):  # Ray's client logs every refusal on fd 2
        if token_mode:
            _token_at_hand()
        try:
            GcsClient(address=address)
        except AuthenticationError:
            raise ConnectionError(refusal(address, token_mode)) from None
        except RpcError as error:  # something else listens there (Ray waits 40 s for it)
            reason = str(error).rstrip(".")
            raise ConnectionError(f"no Ray cluster answers at {address} ({reason})") from None


def _token_at_hand() -> None:
    """ConnectionError unless Ray finds a token to send (without one, its client aborts)."""
    from ray._raylet import AuthenticationTokenLoader
    from ray.exceptions import AuthenticationError

    try:
        AuthenticationTokenLoader.instance().has_token()
    except AuthenticationError as error:  # Ray's first sentence says which source failed
        first = str(error).split(". ")[0]
        raise ConnectionError(f"{first}: set {TOKEN}") from None


def refusal(address: str, token_mode: bool) -> str:
    """The line for a cluster that refused this driver."""
    if not token_mode:
        return f"the Ray cluster at {address} requires a token: set RAY_AUTH_MODE=token and {TOKEN}"
    return f"the Ray cluster at {address} refused the token in {token_source()}: set {TOKEN}"


def token_source() -> str:
    """Where Ray took the token from, in its order of precedence."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    if path := os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return f"RAY_AUTH_TOKEN_PATH ({path})"
    return "~/.ray/auth_token"
