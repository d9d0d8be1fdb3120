"""Lesson 03's experiment: a small CNN + quantum layer on scikit-learn's 8x8 digits. See lesson 03.

The old Qiskit textbook trained a CNN whose one output was the angle of a 1-qubit circuit on
MNIST 0 vs 1 (a fixed, untrainable circuit computing (1 + sin t)/2, with a gradient twice too
large). Here the circuit has trainable weights, exact gradients, and a matched classical twin.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from qdr_course.quantum.circuits import ParameterizedCircuit, retinopathy_circuit
from qdr_course.quantum.layer import QuantumLayer, encode_angles
from qdr_course.validate import digit_pair

__all__ = ["load_digit_tensors", "DigitNet", "hybrid_digit_net", "classical_digit_net",
           "train_step", "accuracy", "fit", "with_backend"]


def load_digit_tensors(digits=(0, 1), test_size: float = 0.3, seed: int = 0):
    """Two classes of sklearn's bundled 8x8 digits as (1, 8, 8) tensors in [0, 1], stratified split.

    See lesson 03.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = digit_pair(digits)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    data = load_digits()
    keep = np.isin(data.target, digits)
    x = (data.images[keep] / 16.0).astype(np.float32)[:, None]
    y = (data.target[keep] == digits[1]).astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed,
                                              stratify=y)
    return (torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te),
            torch.from_numpy(y_te))


class DigitNet(nn.Module):
    """Conv(1->4) + pool -> Linear(64 -> n_features) -> angles -> bottleneck -> Linear(-> 2)."""

    def __init__(self, bottleneck: nn.Module, n_features: int, n_bottleneck_out: int,
                 n_classes: int = 2):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten(), nn.Linear(64, n_features))
        self.bottleneck = bottleneck
        self.head = nn.Linear(n_bottleneck_out, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_classes) for images (B, 1, 8, 8)."""
        if images.dim() != 4 or images.shape[1:] != (1, 8, 8):
            raise ValueError(f"images must have shape (B, 1, 8, 8), got {tuple(images.shape)}")
        return self.head(self.bottleneck(encode_angles(self.features(images))))


def hybrid_digit_net(circuit: ParameterizedCircuit | None = None, backend="statevector",
                     **layer_kwargs) -> DigitNet:
    """DigitNet with a QuantumLayer bottleneck (default: 3-qubit, 2-layer retinopathy circuit).

    See lesson 03.
    """
    circuit = retinopathy_circuit(3, 2) if circuit is None else circuit
    layer = QuantumLayer(circuit, backend=backend, **layer_kwargs)
    return DigitNet(layer, layer.in_features, layer.out_features)


def classical_digit_net(n_features: int = 3) -> DigitNet:
    """The matched classical twin: the same CNN and head, bottleneck Linear + tanh (outputs in [-1,
    1]).

    See lesson 03.
    """
    return DigitNet(nn.Sequential(nn.Linear(n_features, n_features), nn.Tanh()), n_features,
                    n_features)


def train_step(model: nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor) -> float:
    """One step: zero grads, cross-entropy, backward, step; return the loss before the update.

    See lesson 03.
    """
    optimiser.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimiser.step()
    return loss.item()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correct argmax predictions. See lesson 03."""
    was_training = model.training
    model.eval()
    correct = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train(was_training)
    return correct


def fit(model: nn.Module, x_train, y_train, x_test=None, y_test=None, epochs: int = 5,
        batch_size: int = 32, lr: float = 0.02, seed: int = 0) -> dict:
    """Train with Adam over shuffled mini-batches; history of loss and accuracy per epoch.

    See lesson 03.
    """
    from qdr_course.progress import progress_bar  # honours TQDM_DISABLE

    tqdm = progress_bar()
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1, lr > 0; got {epochs}, {batch_size}, "
                         f"{lr}")
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    for _ in tqdm(range(epochs), desc="epochs"):
        order = torch.randperm(len(x_train), generator=generator)
        losses = [train_step(model, optimiser, x_train[idx], y_train[idx])
                  for idx in order.split(batch_size)]
        history["loss"].append(float(np.mean(losses)))
        history["train_accuracy"].append(accuracy(model, x_train, y_train))
        if x_test is not None:
            history["test_accuracy"].append(accuracy(model, x_test, y_test))
    return history


def with_backend(model: DigitNet, backend, **layer_kwargs) -> DigitNet:
    """A copy of a trained hybrid DigitNet whose circuit runs on ``backend`` (e.g. a fake device).

    See lesson 03.
    """
    if not isinstance(model.bottleneck, QuantumLayer):
        raise TypeError("with_backend needs a hybrid DigitNet (its bottleneck is a QuantumLayer)")
    old = model.bottleneck
    clone = copy.deepcopy(nn.ModuleDict({"features": model.features, "head": model.head}))
    layer = QuantumLayer(old.circuit, backend=backend, init_weights=old.weights.detach(),
                         **layer_kwargs)
    new = DigitNet(layer, old.in_features, old.out_features)
    new.features, new.head = clone["features"], clone["head"]
    return new.train(model.training)
