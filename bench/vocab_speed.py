"""Naming speed: how long the vocabulary's text embeddings make the user wait, back to back in one run.

Times, with open_clip's ViT-B-32 and random weights (speed does not depend on the weights) on the CPU:
  (a) prompts/s through `model.encode_text` over the whole 77-token context, vs the text tower cut to the
      longest prompt of each length-sorted batch (`engine.embed.text_tower`), on the same prompts, with the
      smallest cosine between the two embeddings;
  (b) time to first names: one prompt per term over the whole built-in vocabulary, through the engine's
      cached path (`vocabulary_features(..., ensemble=False)` into a fresh catalog);
  (c) time to the full ensemble: every template of every term, the same path (on a subset of the terms
      when --ensemble-terms is set; the whole-vocabulary time is then extrapolated, and the output says so).
Each figure is the median of --repeats runs. The machine's load average is read before and after.

    python bench/vocab_speed.py [--threads 2] [--repeats 3] [--context-prompts 256] [--ensemble-terms 700]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def median_time(repeats: int, run) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--context-prompts", type=int, default=256, help="prompts for (a)")
    parser.add_argument("--ensemble-terms", type=int, default=0, help="terms for (c); 0 = the whole vocabulary")
    args = parser.parse_args()

    import open_clip
    import torch

    from engine.catalog import Catalog
    from engine.embed.embedder import Embedder
    from engine.embed.text_tower import encode_tokens
    from engine.naming.album_names import vocabulary_features
    from engine.naming.vocabulary import builtin_vocabulary
    from engine.settings import ModelSpec

    torch.set_num_threads(args.threads)
    load_before = load_average()
    model = open_clip.create_model("ViT-B-32", pretrained=None).eval()
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    embedder = Embedder(ModelSpec("ViT-B-32", "random"), model, None, tokenizer, "cpu", "bench-random-vit-b-32")
    vocabulary = builtin_vocabulary()
    quick_prompts = sum(len(p) for p in vocabulary.prompt_sets(ensemble=False))
    full_prompts = sum(len(p) for p in vocabulary.prompt_sets())

    # (a) the same prompts, whole context vs cut: every n-th prompt of the ensemble, so all templates appear.
    every = [p for prompts in vocabulary.prompt_sets() for p in prompts]
    sample = every[:: max(1, len(every) // args.context_prompts)][: args.context_prompts]
    tokens = tokenizer(sample)
    with torch.inference_mode():
        full_s, full_runs = median_time(
            args.repeats, lambda: torch.cat([model.encode_text(b) for b in tokens.split(256)])
        )
        cut_s, cut_runs = median_time(args.repeats, lambda: encode_tokens(model, tokens))
        a = torch.nn.functional.normalize(model.encode_text(tokens), dim=-1)
        b = torch.nn.functional.normalize(encode_tokens(model, tokens), dim=-1)
        min_cosine = float((a * b).sum(dim=-1).min())
    longest = int(tokens.argmax(dim=-1).max()) + 1

    def names(vocab, ensemble: bool) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            catalog = Catalog(Path(tmp) / "catalog.db")
            try:
                model_id = catalog.model_id(embedder.key, embedder.dim)
                vocabulary_features(catalog, embedder, model_id, vocab, ensemble=ensemble)
            finally:
                catalog.close()

    # (b) first names: one prompt per term, the whole vocabulary.
    quick_s, quick_runs = median_time(args.repeats, lambda: names(vocabulary, False))

    # (c) the full ensemble, on a spread of the terms when asked.
    import dataclasses

    subset = vocabulary
    if args.ensemble_terms and args.ensemble_terms < len(vocabulary):
        step = len(vocabulary) // args.ensemble_terms
        subset = dataclasses.replace(vocabulary, terms=vocabulary.terms[::step][: args.ensemble_terms])
    subset_prompts = sum(len(p) for p in subset.prompt_sets())
    ensemble_s, ensemble_runs = median_time(args.repeats, lambda: names(subset, True))
    ensemble_whole_s = ensemble_s * full_prompts / subset_prompts

    result = {
        "model": "ViT-B-32, random weights, CPU",
        "threads": args.threads,
        "repeats": args.repeats,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "vocabulary": {"terms": len(vocabulary), "prompts_one_each": quick_prompts, "prompts_ensemble": full_prompts},
        "a_context": {
            "prompts": len(sample),
            "longest_tokens": longest,
            "full_context_prompts_per_s": round(len(sample) / full_s, 1),
            "cut_prompts_per_s": round(len(sample) / cut_s, 1),
            "speed_up": round(full_s / cut_s, 2),
            "min_cosine": round(min_cosine, 7),
            "runs_s": {"full": [round(t, 2) for t in full_runs], "cut": [round(t, 2) for t in cut_runs]},
        },
        "b_first_names_s": round(quick_s, 1),
        "b_runs_s": [round(t, 1) for t in quick_runs],
        "b_before_estimate_s": round(quick_prompts / (len(sample) / full_s), 1),
        "c_ensemble": {
            "terms": len(subset),
            "prompts": subset_prompts,
            "median_s": round(ensemble_s, 1),
            "runs_s": [round(t, 1) for t in ensemble_runs],
            "whole_vocabulary_s": round(ensemble_whole_s, 1),
            "extrapolated": subset is not vocabulary,
            "before_estimate_s": round(full_prompts / (len(sample) / full_s), 1),
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
