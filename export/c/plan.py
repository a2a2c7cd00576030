"""When each layer runs and where each tensor lives: the static schedule and the arena.

A convolution that feeds another convolution never holds its whole output: the two run row by
row, interleaved, and the producer keeps only the rows its consumer still needs (a ring).
The consumer either gathers its kernel window from that ring ("gather"), or takes each input
row as it comes and adds it to the accumulators of the output rows it touches ("scatter"),
whichever needs less memory. Every other layer runs once its input is complete.

The schedule is simulated here, so the ring sizes are exact; then every buffer (rings,
whole tensors, accumulators) gets an offset in one arena, by lifetime: two buffers share
memory when no step uses both (greedy by size, as TensorFlow Lite Micro's planner does).
"""

import math
from dataclasses import dataclass, field

from mnist_edge.export.c.layers import Conv, Layer, Model, Tensor

ALIGNMENT = 4  # bytes: every buffer starts on a word, for float and int32 access
ACCUMULATOR_BYTES = 4  # int32 or float


@dataclass(frozen=True)
class Step:
    """One call in mnist_predict: `action` of layer `layer` ("run", or for a convolution
    "row" r, "open"/"add"/"finish" of output row r, "add" also naming input row `source_row`)."""

    layer: int
    action: str
    row: int = 0
    source_row: int = 0


@dataclass
class Buffer:
    name: str
    rows: int  # rows held (a ring when fewer than the tensor has)
    row_bytes: int
    first: int = 0  # first and last step that use it
    last: int = 0
    offset: int = 0

    @property
    def bytes(self) -> int:
        return self.rows * self.row_bytes


@dataclass
class Plan:
    steps: list[Step]
    buffers: dict[str, Buffer]  # by tensor name, plus "acc<layer>" for scatter accumulators
    modes: dict[int, str]  # convolution layer -> "gather" or "scatter"
    arena_bytes: int = 0
    external: set[str] = field(default_factory=set)  # the image and the probabilities


def plan(model: Model) -> Plan:
    modes = choose_modes(model)
    steps = Scheduler(model, modes).run()
    buffers = measure_buffers(model, modes, steps)
    arena = place(list(buffers.values()))
    return Plan(steps, buffers, modes, arena, {model.image.name, model.probabilities.name})


def choose_modes(model: Model) -> dict[int, str]:
    """Per convolution fed by a convolution: gather (a ring of kernel-height input rows) or
    scatter (one input row, and accumulators for the output rows in flight)."""
    producers = {layer.output.name: layer for layer in model.layers}
    modes = {}
    for index, layer in enumerate(model.layers):
        if not isinstance(layer, Conv):
            continue
        if not isinstance(producers.get(layer.source.name), Conv):
            modes[index] = "gather"
            continue
        kernel_h, stride = layer.kernel[0], layer.stride[0]
        ring = (
            min(kernel_h, layer.source.shape[0]) * layer.source.row_size * layer.source.item_bytes
        )
        open_rows = min(math.ceil(kernel_h / stride), layer.output.shape[0])
        scatter = layer.source.row_size * layer.source.item_bytes
        scatter += open_rows * layer.output.row_size * ACCUMULATOR_BYTES
        modes[index] = "scatter" if scatter < ring else "gather"
    return modes


class Scheduler:
    """Runs the model symbolically, row by row, eagerly: a row is consumed as soon as a
    consumer can use it, so that as few rows as possible are alive at once."""

    def __init__(self, model: Model, modes: dict[int, str]) -> None:
        self.model = model
        self.modes = modes
        self.steps: list[Step] = []
        self.rows_done = {model.image.name: model.image.shape[0]}  # the image: all rows
        self.heights = {layer.output.name: layer.output.shape[0] for layer in model.layers}
        self.heights[model.image.name] = model.image.shape[0]
        self.consumer = {layer.source.name: i for i, layer in enumerate(model.layers)}
        # gather: the next output row to compute (other layers: 1 once they have run)
        self.next_row = {i: 0 for i in range(len(model.layers))}
        self.added = {i: 0 for i in range(len(model.layers))}  # scatter: input rows taken

    def run(self) -> list[Step]:
        for layer in self.model.layers:
            self.rows_done.setdefault(layer.output.name, 0)
        self.advance(self.consumer[self.model.image.name])
        return self.steps

    def advance(self, index: int) -> None:
        """Let layer `index` do all it can with the rows of its input computed so far."""
        layer = self.model.layers[index]
        available = self.available(layer.source)
        if not isinstance(layer, Conv):
            if available == layer.source.shape[0] and self.next_row[index] == 0:
                self.next_row[index] = 1
                self.steps.append(Step(index, "run"))
                self.produced(layer, layer.output.shape[0])
            return
        if self.modes[index] == "scatter":
            self.scatter(index, layer, available)
            return
        while self.next_row[index] < layer.output.shape[0]:
            row = self.next_row[index]
            needed = [r for r in layer.input_rows(row) if 0 <= r < layer.source.shape[0]]
            if needed[-1] >= available:
                return
            self.steps.append(Step(index, "row", row))
            self.next_row[index] += 1
            self.produced(layer, row + 1)

    def available(self, source: Tensor) -> int:
        """Rows of `source` computed so far, in its own shape (a reshaped view: all or none)."""
        done, height = self.rows_done[source.name], self.heights[source.name]
        if height == source.shape[0]:
            return done
        return source.shape[0] if done == height else 0

    def scatter(self, index: int, layer: Conv, available: int) -> None:
        height = layer.source.shape[0]
        while self.added[index] < available:
            source_row = self.added[index]
            for row in range(layer.output.shape[0]):
                if source_row in layer.input_rows(row):
                    if source_row == first_row(layer, row):
                        self.steps.append(Step(index, "open", row))
                    self.steps.append(Step(index, "add", row, source_row))
                    if source_row == min(layer.input_rows(row)[-1], height - 1):
                        self.steps.append(Step(index, "finish", row))
                        self.produced(layer, row + 1)
            self.added[index] += 1

    def produced(self, layer: Layer, rows: int) -> None:
        self.rows_done[layer.output.name] = rows
        if layer.output.name in self.consumer:
            self.advance(self.consumer[layer.output.name])


def first_row(layer: Conv, row: int) -> int:
    return max(0, layer.input_rows(row)[0])


def measure_buffers(model: Model, modes: dict[int, str], steps: list[Step]) -> dict[str, Buffer]:
    """Each arena buffer with its lifetime and the rows it must hold at once."""
    external = {model.image.name, model.probabilities.name}
    live: dict[str, dict[int, tuple[int, int]]] = {}  # tensor -> row -> (written, last read)
    for number, step in enumerate(steps):
        layer = model.layers[step.layer]
        if layer.source.name in external:
            pass
        elif step.action == "run":  # every row, whatever shape the layer sees them in
            rows = live[layer.source.name]
            rows.update({row: (written, number) for row, (written, _) in rows.items()})
        else:
            for row in reads(layer, step):
                written, _ = live[layer.source.name][row]
                live[layer.source.name][row] = (written, number)
        for row in writes(layer, step):
            live.setdefault(layer.output.name, {})[row] = (number, number)
    buffers = {}
    for layer in model.layers:
        tensor = layer.output
        if tensor.name in external or tensor.name in buffers:
            continue
        rows = live[tensor.name]
        buffers[tensor.name] = Buffer(
            tensor.name, ring_rows(rows), tensor.row_size * tensor.item_bytes,
            first=min(w for w, _ in rows.values()), last=max(r for _, r in rows.values()),
        )  # fmt: skip
    for index, mode in modes.items():
        if mode == "scatter":
            buffers[f"acc{index}"] = accumulators(model.layers[index], index, steps)
    return buffers


def reads(layer: Conv, step: Step) -> list[int]:
    """The input rows a convolution's step reads."""
    if step.action == "row":
        return [r for r in layer.input_rows(step.row) if 0 <= r < layer.source.shape[0]]
    if step.action == "add":
        return [step.source_row]
    return []


def writes(layer: Layer, step: Step) -> list[int]:
    if step.action == "run":
        return list(range(layer.output.shape[0]))
    if step.action in ("row", "finish"):
        return [step.row]
    return []


def ring_rows(rows: dict[int, tuple[int, int]]) -> int:
    """The fewest slots such that row j's slot (j modulo slots) is free when j is written."""
    slots = most_alive(rows.values())
    while any(
        j - slots in rows and rows[j - slots][1] >= written for j, (written, _) in rows.items()
    ):
        slots += 1
    return slots


def most_alive(spans) -> int:
    """The most rows alive at one step (a row lives from its write to its last read)."""
    events = sorted([(w, 1) for w, _ in spans] + [(r + 0.5, -1) for _, r in spans])
    alive = most = 0
    for _, change in events:
        alive += change
        most = max(most, alive)
    return most


def accumulators(layer: Conv, index: int, steps: list[Step]) -> Buffer:
    spans = {}
    for number, step in enumerate(steps):
        if step.layer == index and step.action in ("open", "finish"):
            start, _ = spans.get(step.row, (number, number))
            spans[step.row] = (start, number)
    return Buffer(
        f"acc{index}", most_alive(spans.values()), layer.output.row_size * ACCUMULATOR_BYTES,
        first=min(s for s, _ in spans.values()), last=max(e for _, e in spans.values()),
    )  # fmt: skip


def place(buffers: list[Buffer]) -> int:
    """Offsets for the buffers (largest first, each at the lowest offset free for its whole
    lifetime); returns the arena's size in bytes."""
    placed: list[Buffer] = []
    for buffer in sorted(buffers, key=lambda b: (-b.bytes, b.first)):
        offset = 0
        for other in sorted(placed, key=lambda b: b.offset):
            overlaps_in_time = other.first <= buffer.last and buffer.first <= other.last
            if overlaps_in_time and offset + buffer.bytes > other.offset:
                offset = max(offset, align(other.offset + other.bytes))
        buffer.offset = offset
        placed.append(buffer)
    return max((align(b.offset + b.bytes) for b in placed), default=0)


def align(size: int) -> int:
    return -(-size // ALIGNMENT) * ALIGNMENT
