"""Benchmark of lesson 05's graders: epoch time and the QWK target (issue 5).

1. One training epoch on 1,000 synthetic 64 x 64 images, hybrid (statevector back end) against
   its classical twin, measured in the same run (median of ``--repeats`` paired rounds).
   Target: hybrid <= 1.5 x classical and < 30 s.
2. The QWK target: 2,000 training images (64 x 64), at most 10 epochs, both models, several
   seeds; QWK on the held-out test split. Target: >= 0.85 for both.

    python benchmarks/bench_grader.py                 # both parts, seeds 0 1 2
    python benchmarks/bench_grader.py --part speed    # only the epoch time (same as --quick)

Results go to ``benchmarks/results/grader.json``; a part not run keeps its stored result.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch


def build(kind: str, seed: int):
    from qdr_course.retina.models import ClassicalGrader, HybridGrader
    from qdr_course.utils import set_seed

    set_seed(seed)
    hybrid = HybridGrader(n_qubits=3, n_layers=2, image_size=64)
    return hybrid if kind == "hybrid" else ClassicalGrader.matching(hybrid)


def speed(repeats: int) -> dict:
    from qdr_course.retina.fundus import synthetic_fundus_dataset
    from qdr_course.retina.training import train_grader

    images, grades = synthetic_fundus_dataset(n=1000, size=64, seed=0)
    times = {"classical": [], "hybrid": []}
    for _ in range(repeats):
        for kind in times:  # interleaved, so machine load affects both alike
            model = build(kind, 0)
            h = train_grader(model, (images, grades), epochs=1, batch_size=32, lr=1e-2,
                             progress=False)
            times[kind].append(h.seconds[0])
    best = {k: min(v) for k, v in times.items()}
    from benchmarks.benchlib import summary
    table = {kind: summary(v) for kind, v in times.items()}
    table["hybrid_over_classical"] = summary([h / c for h, c in zip(times["hybrid"],
                                                                     times["classical"])])
    print("\n1) one training epoch, 1,000 images of 64 x 64, batch 32, torch threads = "
          f"{torch.get_num_threads()}")
    print(f"{'model':10s} {'best s':>8s} {'median s':>9s} {'vs classical':>13s}")
    for kind in ("classical", "hybrid"):
        print(f"{kind:10s} {best[kind]:8.2f} {np.median(times[kind]):9.2f} "
              f"{best[kind] / best['classical']:12.2f}x")
    ok = best["hybrid"] <= 1.5 * best["classical"] and best["hybrid"] < 30
    print(f"target hybrid <= 1.5 x classical and < 30 s: {'met' if ok else 'NOT met'}")
    return table


def quality(seeds: list[int], epochs: int) -> dict:
    from qdr_course.retina.datasets import load_grading_data
    from qdr_course.retina.runs import format_summary, summarise_runs
    from qdr_course.retina.training import evaluate_grader, train_grader

    # 2,860 images split 70 / 15 / 15 gives 2,002 training images
    data = load_grading_data("synthetic", size=64, n=2860, seed=0)
    print(f"\n2) QWK target: {len(data.train.grades)} training, {len(data.val.grades)} validation, "
          f"{len(data.test.grades)} test images; <= {epochs} epochs; seeds {seeds}")
    results = {"hybrid": [], "classical": []}
    for seed in seeds:
        for kind in results:
            model = build(kind, seed)
            h = train_grader(model, data.train, data.val, epochs=epochs, lr=1e-2, batch_size=32,
                             patience=4, seed=seed, progress=False)
            report = evaluate_grader(model, data.test)
            results[kind].append(report)
            print(f"  seed {seed} {kind:9s} test QWK {report['qwk']:.3f}  accuracy "
                  f"{report['accuracy']:.3f}  epochs {h.epochs}  {sum(h.seconds):.0f} s",
                  flush=True)
    summary = summarise_runs(results)
    print(format_summary(summary))
    worst = {k: min(r["qwk"] for r in v) for k, v in results.items()}
    for kind, (mean, std) in ((k, summary[k]["qwk"]) for k in results):
        print(f"{kind:9s} QWK {mean:.3f} ± {std:.3f} (worst seed {worst[kind]:.3f}): "
              f"target >= 0.85 {'met' if mean >= 0.85 else 'NOT met'} on average")
    return {kind: {"qwk_mean": summary[kind]["qwk"][0], "qwk_std": summary[kind]["qwk"][1],
                   "qwk_per_seed": [r["qwk"] for r in results[kind]], "seeds": seeds,
                   "epochs": epochs, "train_images": len(data.train.grades)}
            for kind in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "quality", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=5, help="speed rounds (>= 5)")
    parser.add_argument("--quick", action="store_true", help="the speed part only (~1 min)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: fastest for these small models)")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5 (medians of at least 5 runs)")
    part = "speed" if args.quick else args.part
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.benchlib import RESULTS, load_average, write_results

    torch.set_num_threads(args.threads)
    started, before = time.perf_counter(), load_average()
    old = RESULTS / "grader.json"
    tables = json.loads(old.read_text())["tables"] if old.is_file() else {}
    stamp = {"date": time.strftime("%Y-%m-%d"), "load_before": before}
    if part in ("speed", "all"):
        tables["speed"] = {**speed(args.repeats), **stamp}
    if part in ("quality", "all"):
        tables["quality"] = {**quality(args.seeds, args.epochs), **stamp}
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    write_results("grader", {"repeats": args.repeats, "torch_threads": args.threads,
                             "parts_run": part}, tables, before)


if __name__ == "__main__":
    main()
