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
    "1.1": ConceptQuestion(
        "H then CX makes (|00> + |11>)/sqrt 2, with <Z_0> = <Z_1> = 0 and <Z_1 Z_0> = +1. "
        "Which observation shows that these two qubits are entangled?",
        {"a": "<Z_1 Z_0> = +1: the two qubits always agree.",
         "b": "<Z_0> = <Z_1> = 0: each qubit alone is random.",
         "c": "<X_1 X_0> = +1 and <Y_1 Y_0> = -1 as well as <Z_1 Z_0> = +1.",
         "d": "The amplitudes are real numbers."},
        "c",
        {"a": "the classical mixture 1/2 (|00><00| + |11><11|) (a coin decides 00 or 11) "
              "also has <Z_1 Z_0> = +1: agreement in one basis is a classical correlation. "
              "This was the course's own old claim.",
         "b": "a single random qubit, or two independent coins, have <Z> = 0 too.",
         "c": "right: |<XX>| + |<YY>| + |<ZZ>| = 3 here, and every unentangled (separable) "
              "state has at most 1. The mixture has <XX> = <YY> = 0.",
         "d": "real amplitudes say nothing about entanglement: |00> has real amplitudes too."}),
    "1.2": ConceptQuestion(
        "The original retinopathy circuit took all seven of its angles from the CNN. How many "
        "trainable weights did its 'quantum layer' have?",
        {"a": "7: one per rotation angle.", "b": "0.", "c": "9, as in Xia & Kais.",
         "d": "3: one per qubit."},
        "b",
        {"a": "angles computed by the CNN are inputs, not weights of the circuit: the optimiser "
              "trains the CNN, and the circuit maps whatever it gets in a fixed way.",
         "b": "right: every angle came from the CNN, so the circuit was a fixed feature map - "
              "nothing inside it was trained.",
         "c": "Xia & Kais's circuit has 9 weights, but the seed did not copy that part.",
         "d": "no gate of the seed's circuit had an angle of its own."}),
    "2.1": ConceptQuestion(
        "The original code computed the gradient of E(t) for an RY(t) gate as "
        "E(t + pi/2) - E(t - pi/2). Compared with the true derivative, its result is ...",
        {"a": "exact: the parameter-shift rule has no step size.",
         "b": "an approximation with error about h^2/6, like any finite difference (a 'nudge').",
         "c": "twice the true derivative.",
         "d": "half the true derivative."},
        "c",
        {"a": "the rule is exact only with its factor: the difference of the two runs is "
              "2 E'(t) for every sinusoid A + B cos t + C sin t.",
         "b": "calling the shift 'a nudge' is the seed's confusion: pi/2 is not a small step, and "
              "the rule has no truncation error at all; the error here is a constant factor.",
         "c": "right: E(t + pi/2) - E(t - pi/2) = 2 E'(t); the missing 1/2 doubles every "
              "gradient.",
         "d": "the difference is larger than the derivative, not smaller: write "
              "E = A + B cos t + C sin t and subtract."}),
    "2.2": ConceptQuestion(
        "An angle t0 sits in three RY gates. How do you get dE/dt0 with parameter shifts?",
        {"a": "Shift t0 by +-pi/2 in all three gates at once and halve the difference.",
         "b": "Shift one gate at a time by +-pi/2 (the others keep t0), halve each difference and "
              "add the three terms.",
         "c": "Shift all three gates at once by +-pi/6, a third of pi/2 each.",
         "d": "It cannot be done: the parameter-shift rule needs one gate per parameter."},
        "b",
        {"a": "that was the seed's second bug: E is not a single sinusoid of t0 when t0 is in "
              "three gates (it has frequencies up to 3), so one shift of all gates is wrong even "
              "with the 1/2.",
         "b": "right: the chain rule sums the per-gate derivatives, and each gate's shift rule is "
              "exact.",
         "c": "a smaller shift of all gates is neither the chain rule nor a valid shift rule for "
              "frequency 3; it is wrong by an amount that depends on the angles.",
         "d": "it can: every occurrence gets its own angle and the chain rule adds the terms."}),
    "3.1": ConceptQuestion(
        "The original CNN fed its seven raw (unsquashed) outputs to the circuit as angles. What "
        "goes wrong?",
        {"a": "Nothing: any real number is a valid angle, and a wider range is more expressive.",
         "b": "Qiskit rejects angles larger than 2 pi.",
         "c": "Features z and z + 2 pi give identical circuit outputs, so the circuit cannot tell "
              "them apart and the head sees a folded, many-to-one feature.",
         "d": "The gradients become exactly zero outside (-pi, pi)."},
        "c",
        {"a": "that is what the seed did: the angle is valid, but the circuit is periodic in it, "
              "so distant features collide; more range is not more information.",
         "b": "Qiskit accepts any finite angle; the problem is the circuit's periodicity, not an "
              "error.",
         "c": "right: angles are periodic, so squash first (a bounded, one-to-one map such as a "
              "scaled tanh).",
         "d": "the gradient of a periodic function is periodic too: it does not vanish outside "
              "(-pi, pi)."}),
    "3.2": ConceptQuestion(
        "The original hybrid reached 99.85 % test accuracy on MNIST 0 vs 1 after one epoch. "
        "What does that tell you about its quantum layer?",
        {"a": "It gives an advantage: classical networks rarely reach 99.85 %.",
         "b": "Little, until a matched classical model (same network, classical bottleneck of "
              "the same shape) is trained the same way on the same data.",
         "c": "That the parameter-shift gradients were right.",
         "d": "That 1000 shots per evaluation are enough for any task."},
        "b",
        {"a": "0 vs 1 is easy: a tiny classical model separates them perfectly, as this lesson "
              "shows.",
         "b": "right: credit the circuit only after an honest comparison with a matched classical "
              "bottleneck (and several seeds; lesson 05).",
         "c": "the seed's gradients were twice too large and wrong for the shared angle, and it "
              "still learned: an easy task forgives wrong gradients.",
         "d": "shot noise adds a standard deviation of about 0.016 per probability; an easy task "
              "hides it, a harder one may not."}),
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
