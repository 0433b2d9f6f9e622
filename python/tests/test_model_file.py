"""One description, one reader, one writer for float and quantized .qgnn models (qgnn.model_file)."""

import numpy as np
import pytest
from conftest import REPO

from qgnn import sim
from qgnn.model_file import (GIN_CONV, GLOBAL_POOL, LINEAR, FormatError, ModelDesc, from_bytes, read_model,
                             read_quantized_model, to_bytes)

FLOAT_MODEL, INT8_MODEL = REPO / "models" / "mutag_gin_f32.qgnn", REPO / "models" / "mutag_gin_int8.qgnn"


def test_float_and_quantized_files_read_into_the_same_description():
    f = from_bytes(FLOAT_MODEL.read_bytes())
    q = from_bytes(INT8_MODEL.read_bytes())
    assert isinstance(f, ModelDesc) and isinstance(q, ModelDesc)
    assert not f.quantized and q.quantized and q.input_quant.bits == 8
    assert [l.kind for l in f.layers] == [l.kind for l in q.layers] == [GIN_CONV] * 3 + [GLOBAL_POOL, LINEAR]
    for lf, lq in zip(f.layers, q.layers):
        assert lf.name == lq.name and lf.relu == lq.relu and lf.output is None and lq.output is not None
        for df, dq in zip(lf.denses(), lq.denses()):
            assert df.weight.shape == dq.weight.shape and df.name == dq.name
            assert df.weight.dtype == np.float32 and df.requant is None and df.weight_bits == 32
            assert dq.weight.dtype == np.int8 and dq.requant is not None and dq.weight_bits == 8
    assert f.num_classes == q.num_classes == 2


def test_written_files_read_back_to_the_same_bytes():
    for path in (FLOAT_MODEL, INT8_MODEL, REPO / "models" / "cora_gcn_f32.qgnn"):
        once = to_bytes(from_bytes(path.read_bytes()))
        assert to_bytes(from_bytes(once)) == once, path.name
    # Files written by this writer come back byte for byte.
    cora = (REPO / "models" / "cora_gcn_f32.qgnn").read_bytes()
    assert to_bytes(from_bytes(cora)) == cora


def test_float_and_quantized_readers_refuse_the_other_kind():
    with pytest.raises(FormatError, match="quantized model; expected a float model"):
        read_model(INT8_MODEL)
    with pytest.raises(FormatError, match="float model"):
        read_quantized_model(FLOAT_MODEL)
    with pytest.raises(ValueError, match="float model"):
        sim.run(read_model(FLOAT_MODEL), np.zeros((1, 7), np.float32), [0, 0], [])
