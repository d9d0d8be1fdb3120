"""Retinopathy graders: a CNN, a bottleneck (a quantum circuit or its classical twin), a head.

See lesson 05. Both graders share one shape so the comparison is honest::

    image (B, 3, S, S) -> FundusCNN -> Linear -> angles (B, num_inputs)
                       -> bottleneck (B, num_outputs) -> Linear -> logits (B, 5)

:class:`HybridGrader` uses a :class:`~qdr_course.quantum.layer.QuantumLayer` as the bottleneck;
:class:`ClassicalGrader` uses ``Linear(num_inputs, num_outputs) + tanh`` (outputs in
[-1, 1] like the Pauli expectation values the circuit returns).

The head returns proper logits for the five ICDR grades, trained with cross-entropy. The
original hybrid notebook fed ``cat(p, 1 - p)`` of sigmoids into cross-entropy instead; that
loss has a floor it can never go below (:func:`sigmoid_pair_loss_floor`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from qdr_course.retina.grades import NUM_GRADES
from qdr_course.threads import configure_torch
from qdr_course.validate import int_at_least

configure_torch()  # torch threads = the CPUs this process may use (quota, affinity)

#: The five ICDR grades, in order of severity (the seed sorted them alphabetically).


def validate_images(x, image_size: int) -> torch.Tensor:
    """Check a batch of fundus images is float (B, 3, S, S); raise a clear error."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor of shape (B, 3, {image_size}, "
                        f"{image_size}), got {type(x).__name__}; convert with torch.as_tensor or "
                        "use FundusDataset")
    if x.ndim == 3:
        raise ValueError(f"images must be a batch (B, 3, {image_size}, {image_size}), got one "
                         f"image of shape {tuple(x.shape)}; add a batch axis with x.unsqueeze(0)")
    if x.ndim != 4:
        raise ValueError(f"images must have shape (B, 3, {image_size}, {image_size}), got "
                         f"{tuple(x.shape)}")
    if x.shape[1] != 3:
        hint = " (channels last? use x.permute(0, 3, 1, 2))" if x.shape[-1] == 3 else ""
        raise ValueError("images must have 3 colour channels on axis 1, got shape "
                         f"{tuple(x.shape)}{hint}")
    if tuple(x.shape[-2:]) != (image_size, image_size):
        raise ValueError(f"this grader was built for {image_size}x{image_size} images, got "
                         f"{x.shape[-2]}x{x.shape[-1]}; resize the images or build the grader "
                         f"with image_size={x.shape[-1]}")
    if not torch.is_floating_point(x):
        raise TypeError(f"images must be floating point (got {x.dtype}); scale uint8 pixels to "
                        "floats first, e.g. with FundusDataset")
    if x.shape[0] == 0:
        raise ValueError("got an empty batch of images")
    return x


class FundusCNN(nn.Module):
    """Four stride-2 convolutions and global average pooling: (B, 3, S, S) -> (B, width).

    See lesson 05.

    Global average pooling makes the features a *density* of lesion-like patterns, which
    suits grading (more and larger lesions = higher grade) and works at any image size.

    >>> FundusCNN(channels=(8, 16, 32, 32))(torch.zeros(2, 3, 64, 64)).shape
    torch.Size([2, 32])
    """

    NORMS = ("batch", "group", "none")

    def __init__(self, channels: tuple[int, ...] = (8, 16, 32, 32), norm: str = "batch"):
        super().__init__()
        if len(channels) == 0:
            raise ValueError("channels must list at least one convolution width")
        for c in channels:
            int_at_least("each entry of channels", c)
        if norm not in self.NORMS:
            raise ValueError(f"norm must be one of {self.NORMS}, got {norm!r}")
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in channels:
            layers.append(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=norm == "none"))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(c_out))
            elif norm == "group":
                layers.append(nn.GroupNorm(min(4, c_out), c_out))
            layers.append(nn.ReLU(inplace=True))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.width = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(x)).flatten(1)


class _Grader(nn.Module):
    """What both graders share: CNN, compression to angles, bottleneck, 5-grade head."""

    #: Name stored in checkpoints; a checkpoint only loads into the class that wrote it.
    kind = "grader"
    #: Angles are ``angle_scale * tanh(features)``: pi covers a full turn (lesson 05 compares
    #: pi / 2, lesson 03's choice).
    angle_scale = math.pi

    def __init__(self, num_inputs: int, num_outputs: int, image_size: int,
                 channels: tuple[int, ...], norm: str = "batch"):
        super().__init__()
        self.image_size = int_at_least("image_size", image_size, minimum=2 ** len(channels))
        self.cnn = FundusCNN(tuple(channels), norm=norm)
        self.norm = norm
        self.compress = nn.Linear(self.cnn.width, num_inputs)
        self.head = nn.Linear(num_outputs, NUM_GRADES)
        self.num_inputs, self.num_outputs = num_inputs, num_outputs

    def angles(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> rotation angles in (-pi, pi): the numbers the bottleneck receives."""
        validate_images(x, self.image_size)
        return self.angle_scale * torch.tanh(self.compress(self.cnn(x)))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> bottleneck outputs (B, num_outputs), values in [-1, 1]."""
        return self.bottleneck(self.angles(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) -> logits (B, 5) for the five grades."""
        return self.head(self.encode(x))

    def grade_logits(self, outputs: torch.Tensor) -> torch.Tensor:
        """The five grade scores among the model's outputs (all of them here)."""
        return outputs

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Grade probabilities (B, 5) in evaluation mode (no dropout, fixed batch norm)."""
        was_training = self.training
        self.eval()
        try:
            return torch.softmax(self.grade_logits(self(x)), dim=1)
        finally:
            self.train(was_training)

    def bottleneck_parameters(self) -> int:
        """Number of trainable parameters in the bottleneck (circuit weights or Linear)."""
        return sum(p.numel() for p in self.bottleneck.parameters() if p.requires_grad)

    @property
    def config(self) -> dict:
        """Keyword arguments that rebuild this model (stored in checkpoints)."""
        raise NotImplementedError


class ClassicalGrader(_Grader):
    """The honest baseline: the hybrid grader with its circuit replaced by ``Linear + tanh``.

    See lesson 05.

    The bottleneck maps ``num_inputs`` angles to ``num_outputs`` numbers in [-1, 1], the same
    width as the circuit it replaces, with ``num_inputs * num_outputs + num_outputs``
    parameters (a 3-qubit, 2-layer circuit has a comparable count).

    >>> model = ClassicalGrader(num_inputs=3, num_outputs=3, image_size=32)
    >>> model(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 5])
    """

    kind = "ClassicalGrader"

    def __init__(self, num_inputs: int = 3, num_outputs: int = 3, image_size: int = 64,
                 channels: tuple[int, ...] = (8, 16, 32, 32), norm: str = "batch"):
        int_at_least("num_inputs", num_inputs)
        int_at_least("num_outputs", num_outputs)
        super().__init__(num_inputs, num_outputs, image_size, channels, norm)
        self.bottleneck = nn.Sequential(nn.Linear(num_inputs, num_outputs), nn.Tanh())
        self._channels = tuple(channels)

    @classmethod
    def matching(cls, hybrid: HybridGrader, copy_weights: bool = False) -> ClassicalGrader:
        """The classical twin of a hybrid grader: same CNN, same bottleneck width.

        With ``copy_weights=True`` the twin also starts from the hybrid's weights everywhere but
        the bottleneck (CNN, compression, head): a properly paired comparison (lesson 05).
        """
        twin = cls(num_inputs=hybrid.num_inputs, num_outputs=hybrid.num_outputs,
                   image_size=hybrid.image_size, channels=hybrid.config["channels"],
                   norm=hybrid.norm)
        if copy_weights:
            for part in ("cnn", "compress", "head"):
                getattr(twin, part).load_state_dict(getattr(hybrid, part).state_dict())
        return twin

    @property
    def config(self) -> dict:
        return {"num_inputs": self.num_inputs, "num_outputs": self.num_outputs,
                "image_size": self.image_size, "channels": list(self._channels), "norm": self.norm}


class HybridGrader(_Grader):
    """CNN -> angles -> trainable quantum circuit -> 5-grade logits. See lesson 05.

    ``backend`` is anything :class:`~qdr_course.quantum.layer.QuantumLayer` accepts:
    ``"statevector"``
    (exact, fast, differentiable by autograd; use it to train) or a Qiskit ``EstimatorV2`` /
    ``SamplerV2`` instance (e.g. a noisy fake IBM device, for inference); ``layer_kwargs`` go
    to the layer (``transpile_to``, ``shots``, ``dtype``). Swap back ends on a trained model
    with :meth:`with_backend` or :meth:`on_device`.

    >>> model = HybridGrader(n_qubits=3, n_layers=2, image_size=32)
    >>> model(torch.rand(4, 3, 32, 32)).shape
    torch.Size([4, 5])
    """

    kind = "HybridGrader"

    def __init__(self, n_qubits: int = 3, n_layers: int = 2, image_size: int = 64,
                 channels: tuple[int, ...] = (8, 16, 32, 32), norm: str = "batch",
                 backend="statevector", **layer_kwargs):
        from qdr_course.quantum.circuits import retinopathy_circuit
        from qdr_course.quantum.layer import QuantumLayer

        int_at_least("n_qubits", n_qubits)
        int_at_least("n_layers", n_layers)
        if isinstance(backend, str) and backend == "statevector":
            validate_statevector_fits(n_qubits, n_layers, batch_size=1, training=False)
        circuit = retinopathy_circuit(n_qubits=n_qubits, n_layers=n_layers)
        super().__init__(circuit.num_inputs, circuit.num_outputs, image_size, channels, norm)
        self.circuit = circuit
        self.bottleneck = QuantumLayer(circuit, backend=backend, **layer_kwargs)
        self.n_qubits, self.n_layers = n_qubits, n_layers
        self._channels = tuple(channels)
        self.backend = backend

    @property
    def quantum(self):
        """The :class:`~qdr_course.quantum.layer.QuantumLayer` (same object as ``bottleneck``)."""
        return self.bottleneck

    def with_backend(self, backend, **layer_kwargs) -> HybridGrader:
        """A copy of this (trained) model whose circuit runs on ``backend``; the original is
        untouched.

        ``layer_kwargs`` go to :class:`~qdr_course.quantum.layer.QuantumLayer` (e.g.
        ``transpile_to``
        for a device, ``shots`` for a sampler).
        """
        clone = type(self)(**self.config, backend=backend, **layer_kwargs)
        clone.load_state_dict(self.state_dict())
        clone.train(self.training)
        return clone

    def on_device(self, device="FakeManilaV2", shots: int = 4000,
                  seed: int | None = 0) -> HybridGrader:
        """A copy whose circuit runs on a (fake, noisy) IBM device through its EstimatorV2.

        See lesson 05.

        ``device`` is a fake-device name from ``qiskit_ibm_runtime.fake_provider`` or a
        ``BackendV2``; the circuit is transpiled for it once; ``shots`` per expectation value.
        """
        from qdr_course.quantum.backends import device_estimator, fake_device

        backend = fake_device(device) if isinstance(device, str) else device
        available = getattr(backend, "num_qubits", None)
        if available is not None and available < self.n_qubits:
            name = device if isinstance(device, str) else getattr(backend, "name", "the device")
            qubits = f"{available} qubit{'s' if available != 1 else ''}"
            raise ValueError(f"device {name} has {qubits}, too few for this grader's "
                             f"{self.n_qubits}-qubit circuit; choose a device with at least "
                             f"{self.n_qubits} qubits (e.g. FakeManilaV2, 5 qubits)")
        return self.with_backend(device_estimator(backend, shots=shots, seed=seed),
                                 transpile_to=backend)

    @property
    def config(self) -> dict:
        return {"n_qubits": self.n_qubits, "n_layers": self.n_layers,
                "image_size": self.image_size, "channels": list(self._channels), "norm": self.norm}


GRADERS = {"hybrid": HybridGrader, "classical": ClassicalGrader}


# ------------------------------------------------------------------ memory of the simulation
def statevector_bytes(n_qubits: int, n_layers: int, batch_size: int, training: bool = True) -> int:
    """Memory the exact simulation of the grader's circuit needs, in bytes (an upper estimate).

    One state is ``batch_size x 2**n_qubits`` complex128 numbers (16 bytes each). Training keeps
    about 1.5 states per gate for autograd (measured: 1.2-1.5 for 10-16 qubits) plus a few working
    copies; evaluation keeps a few. The observables' diagonal adds ``2**n x n_qubits`` float64.
    """
    int_at_least("n_qubits", n_qubits)
    int_at_least("n_layers", n_layers)
    int_at_least("batch_size", batch_size)
    gates = 2 * n_qubits + n_layers * (2 * n_qubits - 1)  # H + RY(x), then CZ chain + RY(w)
    states = 1.5 * gates + 8 if training else 4
    dim = 2 ** n_qubits
    return int(batch_size * dim * 16 * states + 2 * dim * n_qubits * 8)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (psutil's estimate)."""
    import psutil

    return int(psutil.virtual_memory().available)


def _format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def validate_statevector_fits(n_qubits: int, n_layers: int, batch_size: int, training: bool = True,
                           available: int | None = None) -> int:
    """Refuse a circuit whose exact simulation does not fit in memory; return the bytes needed."""
    need = statevector_bytes(n_qubits, n_layers, batch_size, training)
    available = available_memory() if available is None else available
    if need > available:
        largest = n_qubits
        while largest > 1 and statevector_bytes(largest, n_layers, batch_size,
                                                training) > available:
            largest -= 1
        raise MemoryError(
            f"a {n_qubits}-qubit circuit with {n_layers} layers and batches of {batch_size} needs "
            f"about {_format_bytes(need)} to simulate{' and train' if training else ''}, but only "
            f"{_format_bytes(available)} of memory is available; use at most {largest} qubits "
            "(or smaller batches)")
    return need


def build_grader(kind: str, **config) -> _Grader:
    """Build a grader by name (``"hybrid"``, ``"classical"`` or a class name)."""
    by_name = {**GRADERS, **{cls.kind: cls for cls in GRADERS.values()}}
    if kind not in by_name:
        raise ValueError(f"unknown grader {kind!r}; choose one of {sorted(GRADERS)}")
    if "channels" in config:
        config["channels"] = tuple(config["channels"])
    return by_name[kind](**config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of a model. See lesson 05."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def sigmoid_pair_loss_floor(num_classes: int = NUM_GRADES) -> float:
    """Lowest cross-entropy reachable by the seed's ``cat(p, 1 - p)`` sigmoid 'logits'.

    See lesson 05.

    The 2K scores are p_k and 1 - p_k with p_k in (0, 1). Cross-entropy is smallest when the
    target's p is 1 and every other p_j is 1/2 (e^p + e^(1-p) is smallest there), so

        floor = -log( e / (e + 1 + (K - 1) * 2 e^(1/2)) )

    = 1.828 for K = 5: the loss converges - to this floor, not to 0 - because the right
    grade's softmax probability can never exceed :func:`sigmoid_pair_probability_cap`.
    """
    int_at_least("num_classes", num_classes, minimum=2)
    return -math.log(math.e / (math.e + 1 + (num_classes - 1) * 2 * math.exp(0.5)))


def sigmoid_pair_probability_cap(num_classes: int = NUM_GRADES) -> float:
    """Largest softmax probability ``cat(p, 1 - p)`` can give the right grade. See lesson 05.

    ``e / (e + 1 + 2 (K - 1) sqrt(e))`` = 0.161 for K = 5; the loss floor is minus its log.
    """
    int_at_least("num_classes", num_classes, minimum=2)
    return math.e / (math.e + 1 + 2 * (num_classes - 1) * math.sqrt(math.e))


# ------------------------------------------------------------------------------ saliency
def saliency_map(model: nn.Module, image: torch.Tensor, grade: int | None = None) -> torch.Tensor:
    """Vanilla gradient saliency |d logit_grade / d pixel|, max over colour channels: (H, W).

    See lesson 05.

    ``image`` is one float image (3, H, W); ``grade`` defaults to the predicted grade. The
    model runs in evaluation mode; its parameters receive no gradient.
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be one float tensor (3, H, W), got {shape}")
    was_training = model.training
    model.eval()
    try:
        x = image.detach().clone().unsqueeze(0).requires_grad_(True)
        logits = model(x)[0]
        if grade is None:
            grade = int(logits.argmax())
        if not isinstance(grade, int) or not 0 <= grade < logits.numel():
            raise ValueError(f"grade must be an integer 0..{logits.numel() - 1}, got {grade!r}")
        (gradient,) = torch.autograd.grad(logits[grade], x)
    finally:
        model.train(was_training)
    return gradient[0].abs().amax(dim=0)


def lesion_enrichment(saliency, lesion_mask, top_fraction: float = 0.05) -> float:
    """How much more often the most salient pixels fall on lesions than chance. See lesson 05.

    Enrichment = P(lesion | pixel among the top ``top_fraction`` of saliency) / P(lesion):
    1 means the saliency ignores lesions, larger means it points at them.
    """
    s = torch.as_tensor(saliency).detach().float().reshape(-1)
    m = torch.as_tensor(lesion_mask).bool().reshape(-1)
    if s.numel() != m.numel():
        raise ValueError(f"saliency has {s.numel()} pixels but the lesion mask has {m.numel()}; "
                         "they must have the same (H, W)")
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction}")
    if not m.any():
        raise ValueError("the lesion mask is empty (a grade-0 image?): enrichment is undefined")
    k = max(1, round(top_fraction * s.numel()))
    top = torch.topk(s, k).indices
    return float(m[top].float().mean() / m.float().mean())


def edge_saliency(image: torch.Tensor) -> torch.Tensor:
    """A baseline with no learning: Sobel gradient magnitude, maximum over colour channels.

    See lesson 05. A saliency map that finds lesions no better than this edge filter has not
    shown that a network learned anything about lesions.
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be one float tensor (3, H, W), got {shape}")
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = torch.stack([sobel_x, sobel_x.T]).unsqueeze(1)  # (2, 1, 3, 3)
    x = image.detach().float().unsqueeze(1)  # channels as a batch: (3, 1, H, W)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    gradient = torch.nn.functional.conv2d(padded, kernels)
    return gradient.pow(2).sum(1).sqrt().amax(0)


def random_saliency(shape: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """A baseline that knows nothing: uniform random saliency of ``shape`` (H, W). See lesson 05."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(tuple(shape), generator=generator)


def beats_baselines(candidate, baselines: dict, margin: float = 1.0) -> dict:
    """Does a saliency method find lesions better than every baseline, image by image?

    See lesson 05. ``candidate`` and each ``baselines[name]`` hold lesion enrichments of the same
    images in the same order. The candidate beats a baseline when its median enrichment is at
    least ``margin`` times the baseline's AND it is higher on more than half of the images (a
    paired comparison, so one lucky image cannot decide). Returns ``{name: bool}`` plus
    ``"all"``: the verdict the lesson's check asserts.
    """
    candidate = np.asarray(candidate, dtype=float)
    if candidate.ndim != 1 or len(candidate) == 0 or not np.all(np.isfinite(candidate)):
        raise ValueError("candidate must be a non-empty 1-D array of finite enrichments")
    if not baselines:
        raise ValueError("give at least one baseline, e.g. {'edge filter': [...]}")
    verdict = {}
    for name, values in baselines.items():
        values = np.asarray(values, dtype=float)
        if values.shape != candidate.shape or not np.all(np.isfinite(values)):
            raise ValueError(f"baseline {name!r} must hold {len(candidate)} finite enrichments "
                             "of the same images, in the same order")
        verdict[name] = bool(np.median(candidate) >= margin * np.median(values)
                             and np.mean(candidate > values) > 0.5)
    verdict["all"] = all(verdict.values())
    return verdict
