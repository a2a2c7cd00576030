"""`mnist-edge serve`: the model kept loaded behind an HTTP service. Importing this module
is cheap: Starlette and uvicorn load inside the command."""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mnist_edge.cli.console import EXIT_USAGE, fail, require
from mnist_edge.cli.options import ModelOption, open_predictor
from mnist_edge.core.limits import MAX_THREADS
from mnist_edge.serve import settings as defaults  # plain Python: no extra needed for this

if TYPE_CHECKING:
    from mnist_edge.runtime.predictor import Predictor


def serve(
    model: ModelOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port (0: any free one).")
    ] = defaults.DEFAULT_PORT,
    max_batch: Annotated[
        int, typer.Option(min=1, help="Images merged into one model call (1: no batching).")
    ] = defaults.DEFAULT_MAX_BATCH,
    max_delay_ms: Annotated[
        float,
        typer.Option(min=0, help="Longest wait for other requests to join a model call."),
    ] = defaults.DEFAULT_MAX_DELAY_MS,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_THREADS,
            help=f"onnxruntime threads, at most 4 per core ({MAX_THREADS} here). The default "
            "leaves the other cores to the HTTP and decoding work (more threads spin between "
            "calls).",
        ),
    ] = defaults.DEFAULT_MODEL_THREADS,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Image decoding threads. Default: one per core, up to 4."),
    ] = None,
    max_body: Annotated[
        float, typer.Option(min=0.001, help="Largest request body, in MiB.")
    ] = defaults.DEFAULT_MAX_BODY / defaults.MIB,
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds a request may take, from arrival to answer.")
    ] = defaults.DEFAULT_TIMEOUT,
    max_requests: Annotated[
        int,
        typer.Option(
            min=1,
            help="Requests served at once, their bodies read; more wait for a place.",
        ),
    ] = defaults.DEFAULT_MAX_REQUESTS,
    max_connections: Annotated[
        int,
        typer.Option(
            min=1,
            help="Connections open at once; one more closes the one that has waited longest "
            "for its client.",
        ),
    ] = defaults.DEFAULT_MAX_CONNECTIONS,
    max_buffered: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Request bodies held in memory at once, all requests together, in MiB; "
            "a body under 64 KiB needs none of it. Default: 4 x --max-body.",
            show_default=False,
        ),
    ] = None,
    static: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            exists=True,
            help="Folder served at / (the browser page). Default: web/dist of the source "
            "checkout mnist-edge runs from or was installed from, once `make web` built it.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No access log.")] = False,
) -> None:
    """Serve the model over HTTP: the Open Inference Protocol (KServe v2, Triton) and image
    uploads, with dynamic batching. Stops cleanly on SIGTERM or Ctrl-C."""
    require("serve", "'serve'")
    from mnist_edge.serve.app import create_app
    from mnist_edge.serve.run import listen, serve_on, stopping_at_once

    if max_buffered is not None and max_buffered < max_body:
        fail("--max-buffered must be at least --max-body (a largest body must fit)", EXIT_USAGE)
    settings = defaults.Settings(
        host=host,
        port=port,
        max_batch=max_batch,
        max_delay_ms=max_delay_ms,
        workers=workers or 0,
        max_body=int(max_body * defaults.MIB),
        timeout=timeout,
        max_requests=max_requests,
        max_connections=max_connections,
        max_buffered=int((max_buffered or 0) * defaults.MIB),
        static=static or defaults.checkout_page(),
        quiet=quiet,
    )
    try:
        sock = listen(host, port)
    except OSError as error:
        fail(f"cannot listen on {host}:{port} ({error.strerror or error})")
    with stopping_at_once():  # loading a model: a stop signal cannot wait for it
        started = time.perf_counter()
        predictor = open_predictor(model, threads)
        app = create_app(predictor, settings, load_seconds=time.perf_counter() - started)
    serve_on(sock, app, settings, describe(predictor, settings))


def describe(predictor: "Predictor", settings: defaults.Settings) -> str:
    """What the start-up line says is served."""
    page = (
        f"the page from {settings.static}"
        if settings.static
        else "no page (`make web` in the checkout builds it; or --static DIR)"
    )
    return (
        f"{predictor.model_path.name} (max batch {settings.max_batch}, max delay "
        f"{settings.max_delay_ms:g} ms, {settings.decode_workers} decoding threads), {page}"
    )
