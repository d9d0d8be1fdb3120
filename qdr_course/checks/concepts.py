"""Concept checks: multiple-choice questions with immediate feedback. See lesson 01.

``ask("2.1")`` prints a question and its lettered options; the learner returns a letter from a
small function and ``check_concept_2_1(my_choice)`` says right or wrong at once. The right
answer lives only here, in the package: a wrong choice is told what is wrong with it (each
wrong option is a real mistake of the original works) and never which option is right.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdr_course.checks._core import ExerciseError, exercise_check

__all__ = ["ConceptQuestion", "QUESTIONS", "ask", "judge_concept"]


@dataclass(frozen=True)
class ConceptQuestion:
    """A question, its options (letter -> text), the right letter and why each option is (not)."""

    question: str
    options: dict[str, str]
    right: str
    feedback: dict[str, str]  # letter -> what the learner should take away from choosing it

    def __post_init__(self):
        if self.right not in self.options or set(self.feedback) != set(self.options):
            raise ValueError("a concept question needs feedback for every option and a right "
                             "letter among its options")


QUESTIONS: dict[str, ConceptQuestion] = {
    "0.1": ConceptQuestion(
        "RY(pi/2) turns |0> into (|0> + |1>)/sqrt 2; measured 1000 times, it gives 1 about 500 "
        "times. Which statement is right?",
        {"a": "Before each measurement the qubit already was 0 or 1, half the time each; "
              "measuring only reveals which.",
         "b": "A fair coin gives the same counts; only another measurement (after another gate) "
              "can tell this state from a coin.",
         "c": "P(1) = sin(pi/4) = 0.71, so about 710 of the 1000 results are 1.",
         "d": "Each measurement returns 0.5, the average of 0 and 1."},
        "b",
        {"a": "that is a coin (a classical mixture), not a superposition: apply RY(-pi/2) "
              "before measuring and the superposition gives 0 every time, the coin still half "
              "the time.",
         "b": "right: in one basis the counts are the same; a gate before the measurement "
              "(RY(-pi/2), or H) tells them apart, because amplitudes interfere and coin "
              "probabilities do not.",
         "c": "a probability is the amplitude squared: sin^2(pi/4) = 1/2.",
         "d": "a measurement of one qubit always returns 0 or 1; 1/2 is the average of many."}),
    "0.2": ConceptQuestion(
        "You call set_seed(0), draw three random numbers, then draw three more without "
        "re-seeding. What do you get?",
        {"a": "The same three numbers again: the seed fixes every draw.",
         "b": "Numbers that differ from run to run of the notebook: a second draw is no longer "
              "seeded.",
         "c": "Three other numbers, but the same six numbers on every run of the notebook.",
         "d": "The same numbers only if you run on the same kind of CPU."},
        "c",
        {"a": "a seed fixes the start of a sequence, not each draw: the generator moves on "
              "after every draw, so the second three differ from the first.",
         "b": "the whole sequence after a seed is fixed, however many draws you make: the second "
              "three are the same on every run.",
         "c": "right: a seed fixes the whole sequence; re-seeding restarts it. Run the cell "
              "after this check to see both.",
         "d": "NumPy's generator gives the same integers and normal draws on every CPU; what "
              "differs across CPUs is the rounding of long floating-point computations, later."}),
    "1.1": ConceptQuestion(
        "A two-qubit state has <Z_1 Z_0> = +1, <X_1 X_0> = 0 and <Y_1 Y_0> = 0. What do these "
        "three numbers tell you about entanglement?",
        {"a": "It is entangled: its qubits always agree in Z, and independent qubits cannot.",
         "b": "Nothing either way: a coin choosing |00> or |11> gives exactly these numbers, so "
              "they do not show entanglement.",
         "c": "It is entangled: <X_1 X_0> = 0 means the X readings are random, and randomness "
              "is what makes it quantum.",
         "d": "It cannot be entangled: an entangled state has <Z_1 Z_0> = -1."},
        "b",
        {"a": "agreement in one basis is a classical correlation: the coin (the mixture "
              "1/2 (|00><00| + |11><11|)) agrees in Z every time too. This was the course's own "
              "old claim.",
         "b": "right: |<XX>| + |<YY>| + |<ZZ>| = 1 here, within the bound every separable state "
              "obeys, and the coin mixture has these values; a witness above 1 would prove "
              "entanglement, one at or below 1 proves nothing.",
         "c": "random readings in one basis happen for a coin as well; entanglement shows as "
              "correlation in several bases at once, not as randomness.",
         "d": "(|00> + |11>)/sqrt 2 is entangled and has <Z_1 Z_0> = +1; the sign of one "
              "correlation does not decide it."}),
    "1.2": ConceptQuestion(
        "From 1000 shots you estimate <Z> = 0.10 with a standard deviation of about 0.03. How "
        "many shots make that standard deviation 0.015?",
        {"a": "2000: twice the shots, half the error.",
         "b": "4000.",
         "c": "About 1400 (sqrt 2 times as many).",
         "d": "No number of shots: shot noise is a fixed error of the device."},
        "b",
        {"a": "the standard deviation falls like 1/sqrt(N), not 1/N: doubling the shots divides "
              "it by sqrt 2 only.",
         "b": "right: sqrt((1 - <Z>^2)/N) halves when N grows four times; ten times the precision "
              "costs a hundred times the shots.",
         "c": "sqrt 2 times the shots divides the standard deviation by 2^(1/4) only: solve "
              "sqrt(1/N') = sqrt(1/N)/2 for N'.",
         "d": "shot noise is the spread of an average of +-1 readings: it shrinks with more "
              "shots. A device's bias (e.g. readout error) is what more shots do not remove."}),
    "2.1": ConceptQuestion(
        "A weight t enters a circuit only as the angle 2t of one RY gate, so E(t) = A + "
        "B cos 2t + C sin 2t. You apply the rule [E(t + pi/2) - E(t - pi/2)] / 2 to t. "
        "What do you get?",
        {"a": "The exact derivative: the rule is exact and has no step size.",
         "b": "Half the derivative: the chain rule's factor 2 is missing, nothing else.",
         "c": "Zero, at every t.",
         "d": "A finite-difference approximation of the derivative, with error of order "
              "(pi/2)^2."},
        "c",
        {"a": "the rule is exact for frequency 1 only: shifting t by pi/2 shifts the gate's "
              "angle 2t by pi, a different rule.",
         "b": "that would hold for a small step; with this one, E(t + pi/2) = E(t - pi/2) "
              "exactly (both move 2t by pi, and cos and sin have period 2 pi).",
         "c": "right: both runs shift the angle 2t by +-pi, which lands on the same point of the "
              "sinusoid; the fix is the chain rule, a shift of pi/2 of the gate's angle times "
              "d(2t)/dt = 2.",
         "d": "the shift rule is not a finite difference (that is the seed's 'nudge' "
              "confusion); here its result does not depend on E at all: it is 0."}),
    "2.2": ConceptQuestion(
        "On a real device each run of the circuit is an average of 1000 shots. Which gradient "
        "estimate has the smallest standard deviation?",
        {"a": "A central finite difference with h = 0.001: the smallest step is the most "
              "accurate.",
         "b": "All the same: every one of them averages two runs of 1000 shots.",
         "c": "The parameter-shift rule.",
         "d": "A central finite difference with h = 0.1: small enough to be accurate, large "
              "enough to be precise."},
        "c",
        {"a": "a small step is accurate in exact arithmetic only: the difference of two noisy "
              "runs is divided by 2h, so the noise grows like 1/h (the rounding line of the "
              "U, with shot noise in place of rounding).",
         "b": "the two runs have the same noise, but the estimate divides their difference by "
              "2h (finite difference) or by 2 (shift rule): the divisor decides.",
         "c": "right: the shift rule divides the difference of its two runs by 2, a finite "
              "difference by 2h; and the shift rule has no bias either.",
         "d": "dividing by 2h = 0.2 instead of 2 multiplies the standard deviation by about "
              "10: a finite difference needs about 100 times the shots to match (exercise 2.5 "
              "works it out)."}),
    "3.1": ConceptQuestion(
        "A colleague encodes each CNN feature once, as alpha = 2 pi tanh z, 'to use the whole "
        "rotation'. Compared with (pi/2) tanh z, what does the circuit gain or lose?",
        {"a": "It gains: a wider angle range adds higher frequencies, so the model can fit more "
              "functions of z.",
         "b": "It loses: for every setting of the weights each output folds, taking equal values "
              "at different features, while its frequencies stay the same.",
         "c": "Nothing changes: angles are periodic, so any range gives the same outputs.",
         "d": "It loses: the gradient with respect to z vanishes outside (-pi, pi)."},
        "b",
        {"a": "frequencies come from the number of uploads, not the range: one upload is a "
              "sinusoid of degree 1 in alpha, whatever the range; a wider range walks it "
              "further round.",
         "b": "right: the arc has length 4 pi, two whole periods, so every output turns at least "
              "three times on it; at (pi/2) tanh the arc is pi and the weights can keep an "
              "output one-to-one.",
         "c": "periodicity is exactly why the range matters: the range decides how much of a "
              "period, or how many periods, the features walk along.",
         "d": "the gradient of a sinusoid of alpha = 2 pi tanh z does not vanish at large "
              "alpha; it vanishes only where tanh saturates (large |z|), for every s alike."}),
    "3.2": ConceptQuestion(
        "A device qubit reads 0 as 1 with probability p01 = 0.02 and 1 as 0 with p10 = 0.06. "
        "The exact <Z> of your circuit on it is -0.03 (no gate errors). What does the device "
        "read, averaged over many shots?",
        {"a": "About -0.028: readout error shrinks <Z> towards 0 by 1 - p01 - p10 = 0.92.",
         "b": "About +0.012: the sign flips.",
         "c": "-0.03: the errors average out over many shots.",
         "d": "About -0.07: it is shifted by p01 - p10 = -0.04."},
        "b",
        {"a": "that is only half of it: readout error also shifts <Z> by p10 - p01, because 1s "
              "are misread more often than 0s.",
         "b": "right: 0.92 x (-0.03) + (0.06 - 0.02) = +0.012. A shift can flip a small <Z>, "
              "and with it the decision of anything that thresholds at 0.",
         "c": "more shots shrink the random error, not a bias: the average converges to the "
              "biased value.",
         "d": "the shift has the other sign: reading 1 as 0 (p10) pushes <Z> up, towards +1, "
              "and the shrink applies too."}),
    "4.1": ConceptQuestion(
        "A fundus photograph shows a few microaneurysms and a ring of hard exudates half a disc "
        "diameter from the fovea, and nothing else. Under the ICDR rules, what is the eye's DR "
        "grade, and is it referable?",
        {"a": "Mild NPDR (grade 1): exudates belong to macular edema, a separate axis, so the DR "
              "grade stays 1 and a 'grade >= 2' rule would not refer it.",
         "b": "Moderate NPDR (grade 2): exudates are more than microaneurysms; it is referable, "
              "for DR and for DME.",
         "c": "No DR (grade 0): macular edema is not retinopathy.",
         "d": "Severe NPDR (grade 3): exudates this close to the fovea threaten sight."},
        "b",
        {"a": "grade 1 is 'microaneurysms only': any other lesion - an exudate included - makes "
              "the eye at least moderate. This course's own earlier text made this mistake.",
         "b": "right: exudates make it moderate NPDR, and exudates within one disc diameter of "
              "the fovea are referable DME as well.",
         "c": "the exudates and microaneurysms are lesions of diabetic retinopathy: the grade "
              "cannot be 0.",
         "d": "severe NPDR needs a criterion of the 4-2-1 rule (hemorrhages in 4 quadrants, "
              "venous beading in 2, IRMA in 1); a threat to sight is DME's axis, not the DR "
              "grade."}),
    "4.2": ConceptQuestion(
        "IDRiD publishes no patient ids; its 413 training and 103 test photographs are separate "
        "files in separate folders. What does that tell you about a leak between its training "
        "and test sets?",
        {"a": "There is none: no file is in both folders.",
         "b": "Nothing yet: a copy or the same eye can hide under another name; compare the "
              "images themselves (e.g. perceptual hashes), knowing what that comparison can miss.",
         "c": "There must be one: any split of 516 photographs puts some patients on both sides.",
         "d": "There is none: the data set's authors made the split, and published it."},
        "b",
        {"a": "names say nothing about content: APTOS 2019 holds copies of one photograph under "
              "different ids, and IDRiD's own training set holds identical files under two names.",
         "b": "right: only the content can show copies; and a hash finds copies of one "
              "photograph, not always a second photograph of the same eye.",
         "c": "if every patient gave one photograph there would be no patient on both sides; "
              "you cannot conclude a leak without looking.",
         "d": "a published split can still hold copies (APTOS's did); check it."}),
    "5.1": ConceptQuestion(
        "Five paired seeds of the hybrid grader and its twin, tested on the same 150 eyes, give "
        "a mean QWK difference of -0.007 with a 95 % t interval over the seeds of [-0.03, +0.02]. "
        "What does that interval cover?",
        {"a": "The difference we would measure on any 150 new patients, 95 % of the time.",
         "b": "How much retraining (new initial weights and batch order) moves the difference on "
              "these 150 eyes - not how it would move with other eyes in the test set.",
         "c": "Nothing yet: with 5 seeds an interval is meaningless; 30 are needed.",
         "d": "The two graders are equal, because the interval contains 0."},
        "b",
        {"a": "the seeds were resampled, the eyes were not: another 150 eyes would give another "
              "difference. An interval over seeds and images (wider: lesson 05) covers both.",
         "b": "right: an interval covers only the variation it resamples. Resample the test "
              "images as well (a crossed bootstrap) to speak about new eyes.",
         "c": "a t interval over 5 paired seeds is valid, only wide; what it lacks is the "
              "test-image variation, which more seeds would not add.",
         "d": "an interval containing 0 says the data cannot tell the graders apart, not that "
              "they are equal; a difference of 0.02 either way is still allowed."}),
    "5.2": ConceptQuestion(
        "A screening programme needs to refer every eye with moderate NPDR or worse and/or "
        "referable DME. IDRiD grades both. An eye has DR grade 1 (mild) and DME risk 2. What "
        "should the grader's evaluation count it as?",
        {"a": "Not referable: referable means DR grade >= 2.",
         "b": "Referable: DME within one disc diameter of the macula centre makes an eye "
              "referable whatever its DR grade - and by the ICDR rules such an eye is unusual, "
              "since hard exudates are more than 'microaneurysms only'.",
         "c": "Ungradable: the two labels contradict each other, so the eye is dropped.",
         "d": "Referable only if the grader also predicts grade >= 2."},
        "b",
        {"a": "that is the narrower definition used when DME is not graded (APTOS, RetinaMNIST); "
              "with a DME grade, referable DME counts too.",
         "b": "right: referable is DR >= moderate OR referable DME. Mild NPDR is microaneurysms "
              "only, so hard exudates usually mean at least moderate: expect few such eyes, and "
              "count them referable.",
         "c": "dropping eyes that do not fit a rule biases the evaluation; nothing is silently "
              "dropped.",
         "d": "the truth does not depend on the grader's answer: that would count every miss as "
              "a non-referable eye."}),

    "6.1": ConceptQuestion(
        "An infinitely wide network is trained by gradient descent on the squared loss until it "
        "converges. Which kernel does its prediction k_*^T K^-1 y use?",
        {"a": "The NNGP kernel: the covariance of the network's outputs at initialisation.",
         "b": "The neural tangent kernel: the inner product of the output's gradients with "
              "respect to all weights, grad f(x) . grad f(x').",
         "c": "Whatever kernel the NTK has become at the end of training: it keeps changing "
              "while the weights move.",
         "d": "Both equally: the NNGP kernel and the NTK are the same function."},
        "b",
        {"a": "the NNGP kernel is what a Bayesian posterior with the random network as prior "
              "(or training only the last layer) uses; gradient descent on every layer moves "
              "the outputs along the gradients, so its kernel is the NTK.",
         "b": "right: df/dt = -Theta (f - y) / n with Theta = grad f . grad f, constant at "
              "infinite width, so training converges to kernel regression with Theta.",
         "c": "at finite width it does change; as the width grows it freezes at its initial, "
              "deterministic value - that is Jacot et al.'s theorem.",
         "d": "Theta = Sigma + (derivative terms): the NTK adds every hidden layer's "
              "contribution to the NNGP kernel of the last one, so they differ (section 5)."}),
    "6.2": ConceptQuestion(
        "neural-tangents' NTK diagonal is 5 % wrong near depth 150 and not-a-number beyond "
        "about 200 layers, while the closed-form recursion stays exact. Why?",
        {"a": "JAX computes in float32 by default, and the lesson forgot to switch to float64.",
         "b": "erf overflows once the pre-activations grow with depth.",
         "c": "At correlation 1 every layer multiplies a rounding error in the diagonal "
              "correlation by the slope of the correlation map, about 1.2257, so it grows like "
              "1.2257^L.",
         "d": "The NTK matrix becomes singular at large depth."},
        "c",
        {"a": "a real trap in JAX, but not this one: the lesson sets jax_enable_x64 before any "
              "kernel, and float64 still fails - only later.",
         "b": "erf is bounded by 1 and the variance stays at its fixed point 1: nothing "
              "overflows before the error does.",
         "c": "right: the closed form follows the diagonal with its own recursion at "
              "correlation exactly 1, so there is no rounding error to amplify.",
         "d": "deep erf NTKs approach a multiple of the identity: they get better conditioned, "
              "not singular."}),
    "7.1": ConceptQuestion(
        "Rejection sampling loads |k_*> by rotating an ancilla to amplitude k_i / B for a bound "
        "B >= max_i |k_i| and keeping the run when the ancilla reads 1. The paper takes B = the "
        "largest entry of the WHOLE test-kernel matrix; taking each test image's own row maximum "
        "gives an N/P several times smaller. Which B may a quantum algorithm use?",
        {"a": "Any: |k_*> is normalised, so dividing k_* by a constant does not change the state "
              "or its cost.",
         "b": "The row maximum: it is the tightest valid bound, so it gives the true cost.",
         "c": "Only a bound fixed before the state is prepared; the row maximum or the global "
              "maximum is usable only if it is known in advance, otherwise finding it is a "
              "classical pass over the kernel that costs more than the speed-up.",
         "d": "Either: the median over test images comes out the same with both."},
        "c",
        {"a": "the state is the same, but the success probability P / N is not: a larger B makes "
              "every amplitude k_i / B smaller and the ancilla reads 1 less often.",
         "b": "tightest, yes, but the circuit's rotation angles must be set from B before any "
              "k_i is seen; knowing every row's maximum means having computed the row.",
         "c": "right: the cost is decided by what is known in advance. The paper's global "
              "maximum was computed after evaluating the whole test kernel, and the only bound "
              "stated in advance (the clip at k_thresh) costs 10^6 tries or more here.",
         "d": "they differ image by image by (global max / row max)^2, and so do their medians: "
              "the lesson measured the factor."}),
    "7.2": ConceptQuestion(
        "In the original analysis every N/P value at n = 16 appears 144 times (16 trials x 3 "
        "patterns x 3 patterns) in the array whose median and Poisson-bootstrap spread it plots. "
        "What does the replication do to the figure?",
        {"a": "It changes the plotted medians, so the N/P points themselves are wrong.",
         "b": "Nothing: copies carry no new information, so every statistic stays the same.",
         "c": "The medians stay the same, but the error bar treats the 144 copies as independent "
              "observations and comes out roughly sqrt(144) = 12 times too narrow.",
         "d": "It widens the error bars, because repeated values add variance."},
        "c",
        {"a": "every value is repeated the same number of times, so the median (and the mean) is "
              "unchanged: the points are right.",
         "b": "the centre is unchanged, but a bootstrap draws (or weights) entries one by one: "
              "with 144 copies each value is drawn about 144 times and the resampled medians "
              "barely move.",
         "c": "right: copies look like data to a resampling method. Even without copies, the 256 "
              "test images of one trial share a training set, so the independent units are the "
              "16 trials, not 16 x 256 images.",
         "d": "copies of a value add no spread around it: the sample variance stays about the "
              "same while the count grows, so standard errors shrink."}),
    "8.1": ConceptQuestion(
        "HHL rotates its ancilla so that the |1> amplitude is C / lambda_j, with C = lambda_min. "
        "In the worst case for b, how does its success probability P(ancilla = 1) scale with the "
        "condition number kappa?",
        {"a": "Like 1 / kappa.",
         "b": "Like 1 / kappa^2.",
         "c": "It does not depend on kappa: phase estimation finds every eigenvalue.",
         "d": "Like 1 / sqrt(kappa)."},
        "b",
        {"a": "1 / kappa is the largest *amplitude* for b along lambda_max, not the "
              "probability (an earlier version of this lesson drew that line); amplitude "
              "amplification needs about kappa rounds, not kappa^2, which is where a 1 / kappa "
              "often slips in.",
         "b": "right: P = sum_j beta_j^2 (C / lambda_j)^2, and with b along lambda_max it is "
              "(lambda_min / lambda_max)^2 = 1 / kappa^2.",
         "c": "phase estimation finds the eigenvalues, but the rotation must keep every "
              "C / lambda_j <= 1, so large eigenvalues get small amplitudes.",
         "d": "no amplitude or probability in HHL scales like a square root of kappa."}),
    "8.2": ConceptQuestion(
        "The paper estimates overlaps with a magnitude-only test (prepare one state, un-prepare "
        "the other, count returns to |0>). Can it still read the sign of k_*^T y it classifies "
        "with?",
        {"a": "No: a magnitude test measures |<a|b>|^2, which has no sign, so the paper's "
              "readout cannot classify.",
         "b": "Yes: split k_* and y into their positive and negative parts; every overlap of two "
              "non-negative vectors is non-negative, so four magnitudes (with the parts' norms) "
              "give k_*^T y and its sign.",
         "c": "Yes: the global phase of the HHL state carries the sign.",
         "d": "Only on a simulator, by reading the state vector."},
        "b",
        {"a": "this lesson used to say so; the paper's appendix (eq. A.38) splits the vectors "
              "into non-negative parts, and the magnitudes then determine the sign.",
         "b": "right: four magnitude tests instead of one Hadamard test - the course's choice "
              "is the Hadamard test, which reads the sign directly.",
         "c": "a global phase is unobservable: no measurement depends on it.",
         "d": "a state vector is not available on hardware; both the split readout and the "
              "Hadamard test work from counts alone."}),
    "9.1": ConceptQuestion(
        "On FakeManilaV2, the same 2-layer circuit has 4 two-qubit gates at every optimisation "
        "level, yet level 1 gives an expected fidelity of 0.806 and level 2 gives 0.837. Why?",
        {"a": "Level 2 removes more gates, and fewer gates fail less often.",
         "b": "Level 2 puts the circuit on other physical qubits, whose reported gate and "
              "readout errors are smaller.",
         "c": "The expected fidelity is estimated from shots, so two runs differ by chance.",
         "d": "Level 2 adds error mitigation, which raises the fidelity."},
        "b",
        {"a": "both circuits have the same gates (4 two-qubit gates, the same rotations): what "
              "changed is where they run, not how many there are.",
         "b": "right: qubits of one device differ several-fold (Manila's readout errors run from "
              "1.4 % to 9.6 %), so the choice of physical qubits is worth a search.",
         "c": "the expected fidelity is computed from the device's reported error rates, with no "
              "shots: the same circuit and device always give the same number.",
         "d": "the transpiler only rewrites and places the circuit; mitigation (TREX, ZNE) is a "
              "separate option of the estimator and does not change the expected fidelity."}),
    "9.2": ConceptQuestion(
        "The course refuses a circuit whose expected fidelity is 0.45. What does 0.45 mean?",
        {"a": "About 45 % of the grades computed from its outputs will be right.",
         "b": "Quantum mechanics makes the results meaningless below 1/2: nothing can be "
              "learned from them.",
         "c": "By the reported error rates, fewer than half the shots run without any error; "
              "the outputs still carry signal, but noise dominates them. The 1/2 is the "
              "course's line, not a law of physics.",
         "d": "The real device will do better: the estimate counts every error, even those "
              "that cancel."},
        "c",
        {"a": "F is the chance that a shot has no error at all, not an accuracy: a shot with a "
              "small error can still give a nearly right expectation value, and a grade depends "
              "on the head's decision boundaries.",
         "b": "there is no such law: noisy expectation values are shrunk versions of the exact "
              "ones plus noise, and zero-noise extrapolation recovers signal from circuits far "
              "below 1/2 (at a cost in shots).",
         "c": "right: the threshold is a policy - below it most shots carry an error, so a job "
              "mostly measures noise and spends QPU time for little.",
         "d": "the estimate is optimistic, not pessimistic: it leaves out decoherence while "
              "qubits idle, crosstalk and leakage, which real devices add."}),
}


def _question(key: str) -> ConceptQuestion:
    if key not in QUESTIONS:
        raise KeyError(f"no concept question {key!r}; there are {sorted(QUESTIONS)}")
    return QUESTIONS[key]


def ask(key: str) -> None:
    """Print concept question ``key`` with its lettered options. See lesson 01."""
    q = _question(key)
    print(f"Concept check {key}: {q.question}")
    for letter, text in q.options.items():
        print(f"  ({letter}) {text}")


def judge_concept(key: str):
    """The check of concept question ``key``: right or wrong at once, never the right letter."""
    q = _question(key)

    @exercise_check(f"Concept check {key}")
    def judge(choose) -> str:
        letter = choose() if callable(choose) else choose
        if letter is None:
            raise ExerciseError("your function returns None: return one letter, e.g. 'a'.")
        letter = str(letter).strip().strip("()").lower()
        if letter not in q.options:
            raise ExerciseError(f"return one of the letters {', '.join(q.options)}; got "
                                f"{letter!r}.")
        if letter != q.right:
            raise ExerciseError(f"not ({letter}): {q.feedback[letter]}")
        return q.feedback[letter]

    judge.__name__ = judge.__qualname__ = f"check_concept_{key.replace('.', '_')}"
    judge.__doc__ = f"Concept check {key}: ``my_choice()`` returns a letter."
    return judge


# check_concept_1_1, check_concept_1_2, ...: one check per question, as for the exercises.
for _key in QUESTIONS:
    _name = f"check_concept_{_key.replace('.', '_')}"
    globals()[_name] = judge_concept(_key)
    __all__.append(_name)
