"""create_app(predictor, settings): the service's routes, in one list. Each handler checks
what it was given, calls one function of the inference path and answers; every refusal is
the protocol's JSON error object with a 4xx."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from importlib import metadata
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mnist_edge.core.text import printable
from mnist_edge.runtime.predictor import Predictor
from mnist_edge.serve.guard import ASGIApp, Guard
from mnist_edge.serve.inference import Inference, ModelFailure
from mnist_edge.serve.metrics import CONTENT_TYPE, Metrics
from mnist_edge.serve.protocol import BINARY_EXTENSION, ProtocolError, whole_number
from mnist_edge.serve.settings import Settings

SERVER_NAME = "mnist-edge"
MAX_TOP_K = 10
NOT_READY = 400  # the protocol: 200 is true, a 4xx false
Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(predictor: Predictor, settings: Settings, load_seconds: float = 0.0) -> ASGIApp:
    """The service as an ASGI app (run it with uvicorn, or in-process in tests)."""
    metrics = Metrics()
    metrics.model_load.set(load_seconds)
    inference = Inference(predictor, settings, metrics)
    handlers = Handlers(inference, metrics)
    routes: list[BaseRoute] = [
        Route("/v2", handlers.server_metadata),
        Route("/v2/health/live", handlers.live),
        Route("/v2/health/ready", handlers.ready),
        *model_routes("", handlers.model_metadata, "GET"),
        *model_routes("/ready", handlers.model_ready, "GET"),
        *model_routes("/infer", handlers.infer, "POST"),
        Route("/v1/predict", handlers.predict, methods=["POST"]),
        Route("/metrics", handlers.metrics),
    ]
    if settings.static is not None:
        routes.append(Mount("/", StaticFiles(directory=settings.static, html=True)))
    app = Starlette(routes=routes, exception_handlers=ERROR_HANDLERS, lifespan=lifespan(inference))
    return Guard(app, settings, metrics)


def model_routes(suffix: str, endpoint: Endpoint, method: str) -> list[Route]:
    """/v2/models/{model}[/versions/{version}]{suffix}: the version is optional."""
    return [
        Route(f"/v2/models/{{model}}{suffix}", endpoint, methods=[method]),
        Route(f"/v2/models/{{model}}/versions/{{version}}{suffix}", endpoint, methods=[method]),
    ]


def lifespan(inference: Inference) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The batcher and the workers run while the app does."""

    @contextlib.asynccontextmanager
    async def running(app: Starlette) -> AsyncIterator[None]:
        await inference.start()
        try:
            yield
        finally:
            await inference.stop()

    return running


class Handlers:
    def __init__(self, inference: Inference, metrics: Metrics) -> None:
        self.inference, self._metrics = inference, metrics
        self.version = metadata.version("mnist-edge")

    async def server_metadata(self, request: Request) -> Response:
        info = {"name": SERVER_NAME, "version": self.version, "extensions": [BINARY_EXTENSION]}
        return JSONResponse(info)

    async def live(self, request: Request) -> Response:
        return Response()

    async def ready(self, request: Request) -> Response:
        return Response(status_code=200 if self.inference.ready else NOT_READY)

    async def model_metadata(self, request: Request) -> Response:
        self._check_model(request)
        return JSONResponse(self.inference.model.metadata())

    async def model_ready(self, request: Request) -> Response:
        self._check_model(request)
        return await self.ready(request)

    async def infer(self, request: Request) -> Response:
        self._check_model(request)
        body, headers = await self.inference.infer(request.body, request.headers)
        return Response(body, headers=headers)

    async def predict(self, request: Request) -> Response:
        top_k = _top_k(request.query_params.get("top_k", "0"))
        content_type = request.headers.get("content-type", "")
        status, body = await self.inference.predict_files(request.body, content_type, top_k)
        return Response(body, status, media_type="application/json")

    async def metrics(self, request: Request) -> Response:
        return Response(self._metrics.exposition(), media_type=CONTENT_TYPE)

    def _check_model(self, request: Request) -> None:
        params = request.path_params
        self.inference.check_model(params["model"], params.get("version"))


def _top_k(text: str) -> int:
    top_k = whole_number(text)
    if top_k is None or top_k > MAX_TOP_K:
        raise ProtocolError(f"top_k must be a whole number from 0 to {MAX_TOP_K}")
    return top_k


def _error(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status)


async def _protocol_error(request: Request, error: ProtocolError) -> Response:
    return _error(str(error), error.status)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == 404:
        return _error(f"not found: {printable(request.url.path)[:200]}", 404)
    return _error(str(error.detail), error.status_code)


async def _model_failure(request: Request, error: ModelFailure) -> Response:
    return _error(str(error), 500)


async def _internal(request: Request, error: Exception) -> Response:
    return _error("internal error", 500)  # Guard logs the details


ERROR_HANDLERS: dict[Any, Callable[[Request, Any], Awaitable[Response]]] = {
    ProtocolError: _protocol_error,
    HTTPException: _http_error,
    ModelFailure: _model_failure,
    Exception: _internal,
}
