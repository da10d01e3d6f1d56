"""Sharpen: a tiny torch model run on the GPU when the run has one, loaded once per process.

The model is a depthwise 5x5 blur; sharpening adds back ``amount`` times the detail it removes
(an unsharp mask). Its weights are a Gaussian by default, or come from a ``.safetensors`` file
holding ``blur.weight`` of shape [3, 1, 5, 5] (e.g. a kernel you trained).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinograph.api import (
    FRAME_STREAM,
    FrameStream,
    Input,
    InputPath,
    Node,
    NodeFailure,
    NodeParams,
    Output,
    RunContext,
    Slider,
    file_fingerprint,
)

KERNEL = 5
SIGMA = 1.0


def gaussian_kernel(size: int = KERNEL, sigma: float = SIGMA) -> Any:
    """A normalised [size, size] Gaussian (torch, float32)."""
    import torch

    axis = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    line = torch.exp(-(axis**2) / (2 * sigma**2))
    kernel = torch.outer(line, line)
    return kernel / kernel.sum()


def build_model(weights: str = "") -> Any:
    """The blur model on the CPU: Gaussian weights, or those in a safetensors file."""
    import torch

    class UnsharpBlur(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blur = torch.nn.Conv2d(3, 3, KERNEL, groups=3, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pad = KERNEL // 2
            return self.blur(torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect"))

    model = UnsharpBlur()
    if weights:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(weights)
            model.load_state_dict(state, strict=True)
        except (OSError, SafetensorError, RuntimeError) as exc:
            raise NodeFailure(
                f"weights {weights!r}: cannot load a sharpen kernel ({exc}); "
                "the file must be safetensors holding 'blur.weight' of shape [3, 1, 5, 5]"
            ) from None
    else:
        with torch.no_grad():
            model.blur.weight.copy_(gaussian_kernel().expand(3, 1, KERNEL, KERNEL))
    return model.eval().requires_grad_(False)


class Sharpen(Node["Sharpen.Params"]):
    """Unsharp-mask sharpening with a torch model on ``ctx.device``."""

    type_id = "grain.sharpen"
    display_name = "Sharpen (torch)"
    category = "Effects"
    description = (
        "Sharpens frames with an unsharp mask computed by a small torch model, on the GPU when "
        "the run uses one. The model loads once per process."
    )
    inputs = [Input("frames", FRAME_STREAM, "Frames to sharpen.")]
    outputs = [Output("frames", FRAME_STREAM, "The sharpened frames.")]

    class Params(NodeParams):
        amount: float = Slider(0.8, ge=0.0, le=5.0, step=0.1, description="How much detail to add back.")
        weights: str = InputPath(
            "",
            description="Optional kernel (.safetensors with blur.weight [3, 1, 5, 5]); empty: Gaussian.",
            filters=["Safetensors (*.safetensors)"],
            must_exist=False,  # optional: empty means the built-in Gaussian; run() checks a given file
        )

    def run(self, ctx: RunContext, frames: FrameStream) -> dict[str, Any]:
        weights = self.params.weights
        if weights and not Path(weights).is_file():
            raise NodeFailure(f"weights: file {weights!r} does not exist; pick a .safetensors file or clear it")
        amount = self.params.amount
        device = ctx.device
        # Key by device and file state: a CPU and a CUDA copy may both be wanted, and an edited
        # weights file must load again.
        key = ("kinograph_grain.sharpen", weights, file_fingerprint(weights) if weights else "", device)
        model = ctx.models.get(key, lambda: build_model(weights).to(device))

        def one_chunk(pixels: Any, _start: int) -> Any:
            import torch

            with torch.inference_mode():  # a whole chunk at once: one batch on the GPU
                x = torch.from_numpy(pixels).to(device).permute(0, 3, 1, 2).float() / 255.0
                y = x + amount * (x - model(x))
                return (y.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1)

        return {"frames": frames.map(one_chunk, per="chunk")}  # map() brings the tensor back to the CPU
