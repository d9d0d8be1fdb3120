"""Lesson 05's saliency check: it must fail for methods that learned nothing."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from qdr_course import set_seed
from qdr_course.retina import (
    ClassicalGrader,
    HybridGrader,
    beats_baselines,
    edge_saliency,
    lesion_enrichment,
    random_saliency,
    saliency_map,
    synthetic_fundus,
)


def _eyes(n=12, size=64):
    return [synthetic_fundus(grade=2 + i % 3, size=size, seed=1000 + i) for i in range(n)]


def _tensor(img):
    return torch.from_numpy(img).permute(2, 0, 1).float() / 255


def test_edge_saliency_is_scipy_sobel_magnitude():
    img = _tensor(_eyes(1)[0][0])
    mine = edge_saliency(img).numpy()
    ref = np.max([np.hypot(ndimage.sobel(c.numpy().astype(float), 0, mode="nearest"),
                           ndimage.sobel(c.numpy().astype(float), 1, mode="nearest"))
                  for c in img], axis=0)
    assert np.allclose(mine, ref, atol=1e-5)


def test_check_fails_for_an_untrained_network_and_for_the_edge_filter():
    set_seed(1)
    untrained = HybridGrader(image_size=64).eval()
    scores = {"untrained": [], "edge": [], "random": [], "contrast": []}
    for i, (img, _, masks) in enumerate(_eyes()):
        lesions = np.any(list(masks.values()), axis=0)
        x = _tensor(img)
        scores["untrained"].append(lesion_enrichment(saliency_map(untrained, x), lesions))
        scores["edge"].append(lesion_enrichment(edge_saliency(x), lesions))
        scores["random"].append(lesion_enrichment(random_saliency(lesions.shape, i), lesions))
        contrast = np.abs(img.astype(float) - ndimage.uniform_filter(img.astype(float), (7, 7, 1)))
        scores["contrast"].append(lesion_enrichment(torch.as_tensor(contrast.max(2)), lesions))
    for candidate in ("untrained", "edge"):
        baselines = {k: v for k, v in scores.items() if k != candidate}
        assert beats_baselines(scores[candidate], baselines)["all"] is False
    # a method that is better image by image passes, so the check can pass
    better = np.asarray(scores["contrast"]) * 2
    assert beats_baselines(better, scores)["all"] is True
    # random saliency is chance: enrichment about 1
    assert 0.5 < np.median(scores["random"]) < 1.6


def test_paired_twin_shares_every_weight_but_the_bottleneck():
    set_seed(0)
    hybrid = HybridGrader(image_size=32)
    twin = ClassicalGrader.matching(hybrid, copy_weights=True)
    other = ClassicalGrader.matching(hybrid)
    for name, value in hybrid.state_dict().items():
        if not name.startswith("bottleneck"):
            assert torch.equal(value, twin.state_dict()[name])
    assert not torch.equal(hybrid.cnn.blocks[0][0].weight if hasattr(hybrid.cnn, "blocks")
                           else next(hybrid.cnn.parameters()), next(other.cnn.parameters()))


def test_beats_baselines_refuses_mismatched_images():
    with pytest.raises(ValueError, match="same images"):
        beats_baselines([1.0, 2.0], {"edge": [1.0]})
