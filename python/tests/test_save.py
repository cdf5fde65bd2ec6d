"""pdsave.save is byte-identical to paddle.save on generated objects, and the round trip
properties of pdsave.testing hold against real Paddle (the pytest example of the README:
Paddle's own CI can run the same three lines)."""

import collections
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

import pdsave  # noqa: E402
import pdsave.testing as pt  # noqa: E402

EXAMPLES = int(os.environ.get("PDSAVE_HYPOTHESIS_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(obj=pt.objects(), protocol=pt.protocols())
def test_generated_objects_roundtrip_like_paddle(paddle, obj, protocol):
    # Bytes identical to paddle.save, loads identical to paddle.load, and every object
    # that does not come back as saved is a known non-unique decoding (rule ids in KNOWN).
    pt.assert_roundtrip(obj, paddle=paddle, protocol=protocol, allow=pt.KNOWN_RULES)


def test_faq1_fails_with_its_rule_id(paddle):
    # FAQ case 1: a dynamic Tensor beside a user (str, ndarray) tuple: the tuple comes
    # back as a Tensor. Without allow=, assert_roundtrip names the rule.
    obj = {"t": pdsave.Tensor(np.ones(2, np.float32), name="w"),
           "user": ("name", np.zeros(2, np.float32))}
    with pytest.raises(AssertionError, match="A-FAQ1"):
        pt.assert_roundtrip(obj, paddle=paddle)
    pt.assert_roundtrip(obj, paddle=paddle, allow={"A-FAQ1", "A-GRAD"})


def test_state_dict_of_a_layer_is_byte_identical(paddle, tmp_path):
    layer = paddle.nn.Linear(3, 4)
    sd = layer.state_dict()
    a, b = tmp_path / "paddle.pdparams", tmp_path / "pdsave.pdparams"
    for protocol in (2, 3, 4):
        paddle.save(sd, str(a), protocol=protocol)
        pdsave.save(sd, b, protocol=protocol)
        assert a.read_bytes() == b.read_bytes(), protocol
    # The same state dict as pdsave.Tensors, without Paddle's objects.
    plain = collections.OrderedDict(
        (k, pdsave.Tensor(v.numpy(), name=v.name, kind="parameter", stop_gradient=False))
        for k, v in sd.items())
    pdsave.save(plain, b)
    paddle.save(sd, str(a))
    assert a.read_bytes() == b.read_bytes()


def test_save_raises_what_paddle_raises(paddle, tmp_path):
    out = tmp_path / "x.pdparams"
    with pytest.raises(NotImplementedError):
        pdsave.save([b"bytes"], out)
    with pytest.raises(ValueError):
        pdsave.save({"a": 1}, out, protocol=5)
    with pytest.raises(ValueError):
        pdsave.save(paddle.nn.Linear(2, 2), out)
    assert not out.exists() and os.listdir(tmp_path) == []  # nothing left behind
    with pytest.raises(TypeError, match="cannot save an object of type"):
        pdsave.save({"a": object()}, out)
