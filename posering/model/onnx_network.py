"""The pose network run by ONNX Runtime on the CPU.

The model is exported in memory (torch.onnx, TorchScript-based exporter: it needs no extra
package beyond `onnx`) with batch, height and width dynamic, so crops of any size run through
one session. The session takes the same normalised float32 NCHW input as the torch model and
returns the same dict, so the predictor's normalisation and decoding are shared by both paths.
Needs the `onnx` extra (onnxruntime, onnx).

``cache``: a file for the exported graph (``analyze/model_cache.py`` names it per snapshot): read
when it is there, written after an export when not, so a model is exported once per machine.
"""

from __future__ import annotations

import io
import logging
import warnings

import torch

log = logging.getLogger("posering.model")

ONNX_OPSET = 18  # GroupNormalization is a single node from opset 18


class OnnxNetwork:
    """Callable: normalised images (N, 3, H, W) float32 -> {"heatmap", "locref"} CPU tensors."""

    def __init__(self, model: torch.nn.Module, threads: int | None = None, cache: str | None = None):
        import onnxruntime as ort

        from posering import storage

        self.outputs = ["heatmap", "locref"] if model.head.locref_head is not None else ["heatmap"]
        if cache is not None and storage.exists(cache):
            graph = storage.read_bytes(cache)
            log.info("ONNX graph read from the cache: %s", cache)
        else:
            graph = export_onnx(model, self.outputs)
            if cache is not None:
                storage.write_bytes(cache, graph)
                log.info("exported to ONNX, kept for later runs in %s", cache)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        array = images.detach().to("cpu", torch.float32).contiguous().numpy()
        results = self.session.run(self.outputs, {"images": array})
        return {name: torch.from_numpy(value) for name, value in zip(self.outputs, results)}


def export_onnx(model: torch.nn.Module, outputs: list[str]) -> bytes:
    """The model as an ONNX graph (bytes) with batch, height and width dynamic."""
    was_training = model.training
    model = model.to("cpu").eval()
    sample = torch.zeros(1, 3, 128, 128)
    dynamic = {"images": {0: "n", 2: "h", 3: "w"}}
    dynamic.update({name: {0: "n", 2: "mh", 3: "mw"} for name in outputs})
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo export, which needs
        # onnxscript; the TorchScript one exports these plain conv nets exactly.
        warnings.simplefilter("ignore")
        with torch.no_grad():
            # The wrapper must be in eval mode too: the exporter restores the mode of the
            # module it was given, recursively, which would put `model` in training mode.
            torch.onnx.export(
                _AsTuple(model).eval(), (sample,), buffer, input_names=["images"],
                output_names=outputs, dynamic_axes=dynamic, opset_version=ONNX_OPSET,
                dynamo=False,
            )
    model.train(was_training)
    return buffer.getvalue()


class _AsTuple(torch.nn.Module):
    """ONNX export wants positional outputs: the model's dict as a tuple, heatmap first."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images):
        out = self.model(images)
        return tuple(out[k] for k in ("heatmap", "locref") if k in out)
