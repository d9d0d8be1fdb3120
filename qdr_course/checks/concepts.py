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
