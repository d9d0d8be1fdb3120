"""The original project's retinopathy model, built as written, so its bugs can be measured.

See lesson 05.

The seed (DicksonWu654/Hybrid-Quantum-Classical-Neural-Networks-for-Diabetic-Retinopathy, 2021)
never finished training its DR model. :class:`SeedGrader` is that model with today's APIs: a
3-9-27-81 CNN (3 x [Conv 3x3 stride 2 reflect-padded, MaxPool 2, ReLU]), the 729-250-40-7 head
with dropout, the 7 outputs used *raw* as angles of a 3-qubit circuit in which one angle t0
drives three RY gates, the 8 bit-string probabilities, ``Linear(8, 5)``, a sigmoid and
``cat(p, 1 - p)`` as 10 "logits" for cross-entropy. Its switches fix one bug at a time:
``loss="logits"`` (the head's raw outputs are the logits) and ``angles="tanh"`` (bounded
angles pi * tanh). Labels in alphabetical folder order are a property of the data, not of the
model: :func:`alphabetical_grades` reproduces them.

Two differences from the original, both stated in lesson 05: the circuit's probabilities are
computed exactly (the seed sampled 1,000 shots, which made every evaluation differ), and at
64 x 64 pixels the CNN ends at 81 x 1 x 1 features, so the head is 81-250-40-7 (729 = 81 x 3 x 3
at the seed's 224 x 224).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from qdr_course.retina.grades import NUM_GRADES, grade_array
from qdr_course.retina.models import _Grader, validate_images

__all__ = ["FOLDER_NAMES", "SeedGrader", "alphabetical_grades", "seed_circuit",
           "seed_circuit_probabilities"]

FOLDER_NAMES = ("No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR")
"""The class folders of the seed's APTOS copy, in ICDR order."""


def alphabetical_grades(grades) -> np.ndarray:
    """The labels the seed trained on: each grade's folder numbered in alphabetical order.

    See lesson 05.

    Mild=0, Moderate=1, No_DR=2, Proliferate_DR=3, Severe=4.
    """
    order = sorted(FOLDER_NAMES)
    lookup = np.array([order.index(name) for name in FOLDER_NAMES])
    return lookup[grade_array(grades)]


def seed_circuit():
    """The seed's 3-qubit circuit with 7 parameters t[0..6]; t[0] drives three RY gates."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    t = ParameterVector("t", 7)
    qc = QuantumCircuit(3)
    qc.h(range(3))
    for q in range(3):
        qc.ry(t[0], q)
    for layer in range(2):
        qc.cz(0, 1)
        qc.cz(1, 2)
        for q in range(3):
            qc.ry(t[1 + 3 * layer + q], q)
    return qc


def _ry(state: torch.Tensor, theta: torch.Tensor, qubit: int) -> torch.Tensor:
    """Apply RY(theta) (one angle per batch row) to ``qubit`` of a real (B, 2, 2, 2) state."""
    axis = 3 - qubit  # state[b, q2, q1, q0]
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    zero, one = state.select(axis, 0), state.select(axis, 1)
    shape = (-1,) + (1,) * (zero.dim() - 1)
    c, s = c.reshape(shape), s.reshape(shape)
    return torch.stack([c * zero - s * one, s * zero + c * one], dim=axis)


def _cz_signs(dtype) -> torch.Tensor:
    """Signs of CZ(0,1) followed by CZ(1,2) on the (2, 2, 2) basis states [q2, q1, q0]."""
    q2, q1, q0 = torch.meshgrid(*(torch.arange(2),) * 3, indexing="ij")
    return ((-1.0) ** (q0 * q1 + q1 * q2)).to(dtype)


def seed_circuit_probabilities(angles: torch.Tensor) -> torch.Tensor:
    """Exact probabilities (B, 8) of the seed circuit's bit strings, Qiskit's order (q0 last).

    Every gate (H, RY, CZ) is real, so the state is a real vector and autograd differentiates
    it exactly - including t0, which appears in three gates.
    """
    if angles.dim() != 2 or angles.shape[1] != 7:
        raise ValueError(f"angles must have shape (B, 7), got {tuple(angles.shape)}")
    state = torch.full((angles.shape[0], 2, 2, 2), 1 / math.sqrt(8), dtype=angles.dtype)
    for q in range(3):
        state = _ry(state, angles[:, 0], q)
    signs = _cz_signs(angles.dtype)
    for layer in range(2):
        state = state * signs
        for q in range(3):
            state = _ry(state, angles[:, 1 + 3 * layer + q], q)
    return (state ** 2).reshape(-1, 8)


class _SeedCNN(nn.Module):
    """3 x [Conv(c -> 3c, 3x3, stride 2, pad 1, reflect), MaxPool 2, ReLU]: 3-9-27-81."""

    def __init__(self):
        super().__init__()
        layers = []
        for c in (3, 9, 27):
            layers += [nn.Conv2d(c, 3 * c, 3, stride=2, padding=1, padding_mode="reflect"),
                       nn.MaxPool2d(2), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Flatten())

    def forward(self, x):
        return self.net(x)


class SeedGrader(_Grader):
    """The seed's DR model as written (defaults), or with bugs fixed by its switches.

    See lesson 05.

    ``loss="sigmoid_pair"``: forward returns the 10 numbers ``cat(p, 1 - p)``, p = sigmoid of
    ``Linear(8, 5)``; ``"logits"``: the 5 raw outputs of ``Linear(8, 5)``. ``angles="raw"``: the
    7 head outputs are the angles; ``"tanh"``: pi * tanh of them.

    >>> SeedGrader(image_size=64)(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 10])
    """

    kind = "SeedGrader"

    def __init__(self, image_size: int = 64, loss: str = "sigmoid_pair", angles: str = "raw",
                 dropout: float = 0.5):
        if loss not in ("sigmoid_pair", "logits"):
            raise ValueError(f"loss must be 'sigmoid_pair' (as written) or 'logits', got {loss!r}")
        if angles not in ("raw", "tanh"):
            raise ValueError(f"angles must be 'raw' (as written) or 'tanh', got {angles!r}")
        nn.Module.__init__(self)
        if image_size < 32:
            raise ValueError(f"image_size must be at least 32 for three stride-2 convolutions "
                             f"and max-pools, got {image_size}")
        self.image_size, self.norm = int(image_size), "none"
        self.loss, self.angle_map, self.dropout = loss, angles, dropout
        self.cnn = _SeedCNN()
        width = self.cnn(torch.zeros(1, 3, image_size, image_size)).shape[1]
        self.compress = nn.Sequential(nn.Linear(width, 250), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(250, 40), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(40, 7))
        self.bottleneck = nn.Identity()  # no trainable weights in the circuit
        self.head = nn.Linear(8, NUM_GRADES)
        self.num_inputs, self.num_outputs, self.flat_width = 7, 8, width

    def angles(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> the 7 circuit angles (raw as written, or pi * tanh)."""
        validate_images(x, self.image_size)
        raw = self.compress(self.cnn(x))
        return raw if self.angle_map == "raw" else math.pi * torch.tanh(raw)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> the circuit's 8 bit-string probabilities."""
        return seed_circuit_probabilities(self.angles(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> 10 sigmoid-pair "logits" (as written) or 5 real logits."""
        scores = self.head(self.encode(x))
        if self.loss == "logits":
            return scores
        p = torch.sigmoid(scores)
        return torch.cat([p, 1 - p], dim=1)

    def grade_logits(self, outputs: torch.Tensor) -> torch.Tensor:
        """The five grade scores among the outputs (the p half of cat(p, 1 - p))."""
        return outputs[:, :NUM_GRADES]

    @property
    def config(self) -> dict:
        return {"image_size": self.image_size, "loss": self.loss, "angles": self.angle_map,
                "dropout": self.dropout}
