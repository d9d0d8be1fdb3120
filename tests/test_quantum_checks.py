"""The lesson 01-03 exercise checks accept right answers and name the classic mistakes."""

import math

import numpy as np
import pytest
import torch

from qdr_course.checks import (
    check_encode_angles,
    check_ry_matrix,
    check_shared_parameter_gradient,
    check_shift_gradient,
    check_shots_needed,
    check_train_step,
    check_z_expectation_from_counts,
)


def ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]])


def z_from_counts(counts, qubit):
    shots = sum(counts.values())
    return sum(n * (1 - 2 * int(b[::-1][qubit])) for b, n in counts.items()) / shots


def shift(f, t):
    return (f(t + np.pi / 2) - f(t - np.pi / 2)) / 2


def shared(energy, theta, n_gates):
    total = 0.0
    for g in range(n_gates):
        plus, minus = np.full(n_gates, theta), np.full(n_gates, theta)
        plus[g] += np.pi / 2
        minus[g] -= np.pi / 2
        total += (energy(plus) - energy(minus)) / 2
    return total


def shots(e_plus, e_minus, std):
    return math.ceil(((1 - e_plus**2) + (1 - e_minus**2)) / (4 * std**2))


def train_step(model, optimiser, x, y):
    optimiser.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimiser.step()
    return loss.item()


def todo(*args):
    raise NotImplementedError("Exercise")


@pytest.mark.parametrize("check, right, wrongs", [
    (check_ry_matrix, ry, [lambda t: ry(t).T, lambda t: ry(2 * t), lambda t: None]),
    (check_z_expectation_from_counts, z_from_counts,
     [lambda c, q: -z_from_counts(c, q),
      lambda c, q: z_from_counts({k[::-1]: v for k, v in c.items()}, q)]),
    (check_shift_gradient, shift,
     [lambda f, t: f(t + np.pi / 2) - f(t - np.pi / 2),
      lambda f, t: (f(t + 1e-3) - f(t - 1e-3)) / 2e-3]),
    (check_shared_parameter_gradient, shared,
     [lambda e, t, n: (e(np.full(n, t + np.pi / 2)) - e(np.full(n, t - np.pi / 2))) / 2,
      lambda e, t, n: 2 * shared(e, t, n)]),
    (check_shots_needed, shots, [lambda a, b, s: 4 * shots(a, b, s), lambda a, b, s: 1.0 / s]),
    (check_encode_angles, lambda z: (np.pi / 2) * torch.tanh(z),
     [lambda z: torch.tanh(z), lambda z: np.pi * torch.tanh(z), lambda z: torch.as_tensor(
         (np.pi / 2) * np.tanh(z.detach().numpy()))]),
    (check_train_step, train_step, [
        lambda m, o, x, y: torch.nn.functional.cross_entropy(m(x), y),  # no step, returns a tensor
        lambda m, o, x, y: (torch.nn.functional.cross_entropy(m(x), y).backward(), o.step(),
                            0.0)[2]]),
])
def test_check_accepts_right_and_rejects_wrong(check, right, wrongs, capsys):
    assert check(right) == True
    assert "✅" in capsys.readouterr().out
    for wrong in wrongs:
        assert check(wrong) == False
        assert "❌" in capsys.readouterr().out
    assert check(todo) == False
    assert "⏳ Not attempted yet" in capsys.readouterr().out


def test_the_seed_bugs_get_named(capsys):
    check_shift_gradient(lambda f, t: f(t + np.pi / 2) - f(t - np.pi / 2))
    assert "seed's bug" in capsys.readouterr().out
    check_shared_parameter_gradient(
        lambda e, t, n: (e(np.full(n, t + np.pi / 2)) - e(np.full(n, t - np.pi / 2))) / 2)
    assert "all three gates at once" in capsys.readouterr().out
