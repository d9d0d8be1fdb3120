"""The lesson-05 checks accept the reference answers and reject typical mistakes."""

import math

import torch

from qdr_course.checks import check_lesion_enrichment, check_saliency_map, check_sigmoid_pair_floor
from qdr_course.retina.models import lesion_enrichment, saliency_map, sigmoid_pair_loss_floor


def test_sigmoid_pair_floor_check(capsys):
    assert check_sigmoid_pair_floor(sigmoid_pair_loss_floor)
    assert not check_sigmoid_pair_floor(lambda k: math.log(k) + math.log1p(math.exp(-1)))
    assert "1/2" in capsys.readouterr().out
    assert not check_sigmoid_pair_floor(lambda k: "x")

    def todo(k):
        raise NotImplementedError

    assert not check_sigmoid_pair_floor(todo)
    assert "⏳ Not attempted yet" in capsys.readouterr().out


def test_saliency_check(capsys):
    assert check_saliency_map(saliency_map)
    assert not check_saliency_map(lambda m, x: saliency_map(m, x)[None])  # wrong shape
    def wrong_grade(m, x):
        return saliency_map(m, x, grade=(int(m(x[None]).argmax()) + 1) % 5)

    assert not check_saliency_map(wrong_grade)

    def with_backward(model, image):
        x = image.clone().requires_grad_(True)
        out = model(x[None])[0]
        out[out.argmax()].backward()
        return x.grad.abs().amax(0)

    assert not check_saliency_map(with_backward)
    assert "autograd.grad" in capsys.readouterr().out


def test_enrichment_check():
    assert check_lesion_enrichment(lesion_enrichment)
    assert not check_lesion_enrichment(lambda s, m, f: 1.0)
    def wrong(s, m, f):
        return float(m.reshape(-1)[torch.topk(s.reshape(-1), 5).indices].float().mean())

    assert not check_lesion_enrichment(wrong)
