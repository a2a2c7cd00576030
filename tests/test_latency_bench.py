"""The batch-1 benchmark's machinery (benchmarks/latency.py): its statistics, its turn-taking,
and steps that differ in overhead only. The timings themselves are not judged here."""

import numpy as np

from benchmarks.latency import STEPS, Timing, bound_call, interleaved, path_steps
from mnist_edge.runtime import Predictor, default_model_path


def test_ratios_are_taken_within_rounds():
    """Round medians 10/20/40 against 5/10/20: 2.0 in every round, whatever the load did."""
    mine = Timing(samples=[10.0, 20.0, 40.0], round_medians=[10.0, 20.0, 40.0])
    reference = Timing(samples=[5.0, 10.0, 20.0], round_medians=[5.0, 10.0, 20.0])
    assert mine.ratio_to(reference) == 2.0
    assert mine.median_us == 20.0 and mine.p99_us == 40.0


def test_candidates_take_turns_in_alternating_order():
    seen = []
    calls = {name: (lambda name=name: seen.append(name)) for name in "abc"}
    timings = interleaved(calls, rounds=4, per_round=2, warmup=0)
    assert "".join(seen) == "aabbcc" + "ccbbaa" + "aabbcc" + "ccbbaa"
    assert all(len(t.samples) == 8 and len(t.round_medians) == 4 for t in timings.values())


def test_every_step_gives_the_predictors_probabilities(x_test):
    """The steps before BOUND put old parts back into a Predictor: same arithmetic, so the
    same probabilities bit for bit, for one image and for a small batch."""
    for model in (default_model_path(), default_model_path(int8=True)):
        graph = model.read_bytes()
        steps = path_steps(graph, graph)
        assert list(steps) == list(STEPS)
        for images in (x_test[:1], x_test[1:6]):
            expected = Predictor(graph).predict(images)
            for name, predict in steps.items():
                assert np.array_equal(predict(images), expected), f"{model.name}: {name}"


def test_the_bare_call_runs_on_the_predictors_own_buffers(x_test):
    """The floor row times the very call the Predictor makes, on an image it has bound."""
    predictor = Predictor(default_model_path())
    bound_call(predictor, x_test[7:8])()
    buffers = predictor._small.lane().by_size[1]
    assert np.array_equal(buffers.images, x_test[7:8])
    assert np.array_equal(
        buffers.probabilities, Predictor(default_model_path()).predict(x_test[7:8])
    )
