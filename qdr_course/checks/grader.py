"""Exercise checks for lesson 05 (the hybrid retinopathy grader)."""

from __future__ import annotations

import math

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["check_lesion_enrichment", "check_saliency_map", "check_saliency_prediction",
           "check_sigmoid_pair_floor", "check_temperature_prediction"]


@exercise_check("The floor of the seed's sigmoid-pair loss")
def check_sigmoid_pair_floor(sigmoid_pair_floor) -> str:
    """``sigmoid_pair_floor(K)`` must return the lowest cross-entropy of cat(p, 1 - p)."""
    from qdr_course.retina.models import sigmoid_pair_loss_floor

    for k in (2, 3, 5, 10):
        got = sigmoid_pair_floor(k)
        if got is None:
            raise NotImplementedError
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise ExerciseError(f"return a number; for K={k} you returned "
                                f"{type(got).__name__}") from None
        want = sigmoid_pair_loss_floor(k)
        if abs(got - want) > 1e-6:
            hint = ""
            if abs(got - (math.log(k) + math.log1p(math.exp(-1)))) < 1e-6:
                hint = (" You put every other p_j at 0; but e^p + e^(1-p) is smallest at p = 1/2, "
                        "so the optimum puts the non-target p_j at 1/2.")
            raise ExerciseError(f"for K={k} the floor is {want:.4f}, you returned {got:.4f}.{hint}")
    return f"For 5 grades the loss can never go below {sigmoid_pair_loss_floor(5):.3f}."


@exercise_check("Gradient saliency map")
def check_saliency_map(saliency) -> str:
    """``saliency(model, image)`` must return |d logit_pred / d pixel| maxed over channels, (H, W).
    """
    import torch

    from qdr_course.retina.models import ClassicalGrader, saliency_map

    torch.manual_seed(0)
    model = ClassicalGrader(num_inputs=3, num_outputs=3, image_size=16, channels=(4, 8)).eval()
    image = torch.rand(3, 16, 16)
    got = saliency(model, image)
    if got is None:
        raise NotImplementedError
    if not isinstance(got, torch.Tensor):
        raise ExerciseError(f"return a torch tensor, got {type(got).__name__}")
    want = saliency_map(model, image)
    if tuple(got.shape) != tuple(want.shape):
        raise ExerciseError(f"the map must have shape (H, W) = {tuple(want.shape)}, got "
                            f"{tuple(got.shape)}; take the absolute gradient and its maximum over "
                            "the colour axis")
    got = got.detach().float()
    if (got < 0).any():
        raise ExerciseError("saliency must be non-negative: take the absolute value of the "
                            "gradient")
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-7):
        raise ExerciseError("the values differ from |d logit[predicted grade] / d image| maxed "
                            "over channels; did you differentiate the predicted grade's logit (not "
                            "the loss or the softmax)?")
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()):
        raise ExerciseError("your function left gradients on the model's parameters; use "
                            "torch.autograd.grad(output, image) instead of .backward()")
    return ""


@exercise_check("Lesion enrichment of the saliency")
def check_lesion_enrichment(enrichment) -> str:
    """``enrichment(saliency, mask, top_fraction)`` = P(lesion | top pixels) / P(lesion)."""
    import torch

    from qdr_course.retina.models import lesion_enrichment

    g = torch.Generator().manual_seed(1)
    mask = torch.zeros(20, 20, dtype=torch.bool)
    mask[2:6, 3:8] = True  # 20 of 400 pixels: P(lesion) = 0.05
    perfect = mask.float() + 0.01 * torch.rand(20, 20, generator=g)
    cases = [(perfect, 0.05, "a saliency that is exactly the lesions"),
             (torch.rand(20, 20, generator=g), 0.1, "a random saliency"),
             (perfect, 0.2, "the lesions among a larger top fraction")]
    for s, frac, what in cases:
        got = enrichment(s, mask, frac)
        if got is None:
            raise NotImplementedError
        want = lesion_enrichment(s, mask, frac)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise ExerciseError(f"return one number, got {type(got).__name__}") from None
        if abs(got - want) > 1e-6:
            raise ExerciseError(f"for {what} (top fraction {frac}) the enrichment is {want:.3f}, "
                                f"you returned {got:.3f}. Divide the lesion fraction among the top "
                                "k = round(top_fraction * H * W) pixels by the lesion fraction of "
                                "the image")
    return "A perfect saliency scores 1 / P(lesion) = 20 here; chance scores about 1."


def _answer(function):
    """The learner's answer: call the function (a prediction), or take the value itself."""
    value = function() if callable(function) else function
    if value is None:
        raise NotImplementedError
    return value


@exercise_check("Prediction: temperature scaling and the predicted grades")
def check_temperature_prediction(grades_changed_by_temperature) -> str:
    """The prediction of how many of 150 test eyes change grade under softmax(z / T)."""
    got = _answer(grades_changed_by_temperature)
    try:
        count = float(got)
    except (TypeError, ValueError):
        raise ExerciseError(f"return a number of eyes (0-150), got {type(got).__name__}") from None
    if not 0 <= count <= 150 or count != int(count):
        raise ExerciseError("return a whole number of eyes between 0 and 150")
    if count != 0:
        raise ExerciseError("run the next cell and compare. Then ask: dividing all five logits "
                            "of an eye by the same positive T - does it change which is largest?")
    return ("Dividing every logit by the same T > 0 keeps their order, so the argmax - the "
            "predicted grade, QWK, the confusion matrix - cannot change. Only the probabilities "
            "move (and with them P(referable), a sum of three of them).")


@exercise_check("Prediction: learned saliency against a plain filter")
def check_saliency_prediction(more_lesion_enriched) -> str:
    """The prediction of which is more lesion-enriched: trained saliency or local contrast."""
    got = str(_answer(more_lesion_enriched)).strip().strip("\"'").lower()
    if got not in ("trained", "filter"):
        raise ExerciseError(f'return "trained" or "filter", got {got!r}')
    if got != "filter":
        raise ExerciseError("run the next cell and look at the medians. A QWK near 0.9 says the "
                            "grader's *decisions* are good; it does not say its input gradients "
                            "point at lesions more sharply than a detector of small bright or "
                            "dark spots.")
    return ("A lesion is a small spot unlike its surroundings, exactly what a local-contrast "
            "filter finds; a grader's gradient is a sensitivity spread over everything the pooled "
            "features depend on.")
