"""The pose network run by ONNX Runtime on the CPU.

The model is exported in memory (torch.onnx, TorchScript-based exporter: it needs no extra
package beyond `onnx`) with batch, height and width dynamic, so crops of any size run through
one session. The session takes the same normalised float32 NCHW input as the torch model and
returns the same dict, so the predictor's normalisation and decoding are shared by both paths.
Needs the `onnx` extra (onnxruntime, onnx).
"""

from __future__ import annotations

import io
import warnings

import torch

ONNX_OPSET = 18  # GroupNormalization is a single node from opset 18


class OnnxNetwork:
    """Callable: normalised images (N, 3, H, W) float32 -> {"heatmap", "locref"} CPU tensors."""

    def __init__(self, model: torch.nn.Module, threads: int | None = None):
        import onnxruntime as ort

        was_training = model.training
        model = model.to("cpu").eval()
        self.outputs = ["heatmap", "locref"] if model.head.locref_head is not None else ["heatmap"]
        sample = torch.zeros(1, 3, 128, 128)
        dynamic = {"images": {0: "n", 2: "h", 3: "w"}}
        dynamic.update({name: {0: "n", 2: "mh", 3: "mw"} for name in self.outputs})
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
                    output_names=self.outputs, dynamic_axes=dynamic, opset_version=ONNX_OPSET,
                    dynamo=False,
                )
        model.train(was_training)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            buffer.getvalue(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        array = images.detach().to("cpu", torch.float32).contiguous().numpy()
        results = self.session.run(self.outputs, {"images": array})
        return {name: torch.from_numpy(value) for name, value in zip(self.outputs, results)}


class _AsTuple(torch.nn.Module):
    """ONNX export wants positional outputs: the model's dict as a tuple, heatmap first."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images):
        out = self.model(images)
        return tuple(out[k] for k in ("heatmap", "locref") if k in out)
