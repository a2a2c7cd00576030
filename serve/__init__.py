"""`mnist-edge serve`: the model kept loaded behind the Open Inference Protocol (KServe v2,
Triton's HTTP API), with dynamic batching. Needs the `serve` extra (Starlette, uvicorn,
prometheus_client, python-multipart); nothing here is imported by the rest of the tool.

    settings.py   what an operator can set, with its defaults
    protocol.py   the Open Inference Protocol: requests checked, responses built
    uploads.py    image files sent as a body or a multipart form, decoded
    batcher.py    concurrent requests merged into one model call
    inference.py  the path of one request: read, parse, batch, answer
    guard.py      every request's frame: its body, a place, timeout, access log, metrics
    bodies.py     request bodies read whole first, within one budget for all requests
    http.py       uvicorn's HTTP protocol, bounded: heads, connections, pipelining, writes
    memory.py     freed memory given back to the system
    metrics.py    what /metrics exposes
    app.py        create_app(predictor, settings): the routes
    log.py        the service's log lines on stderr
    run.py        uvicorn on a socket, start-up and stop signals, logging
"""
