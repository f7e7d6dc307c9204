"""DAC in the paper's own setting: clustering Fashion-MNIST from pixels with its all-convolutional network.

Usage:
    python bench/dac_pixels.py            # reduced: finishes on a 2-core CPU in a few minutes
    python bench/dac_pixels.py --full     # the paper's setting, for a GPU

The network follows DAC's MNIST model (Chang et al., ICCV 2017), written from the paper: three 3×3 conv
layers (BN, ReLU), max-pool, BN, three more, max-pool, BN, a 1×1 conv to k channels, global average pool, BN,
Dense(k)–BN–ReLU twice, softmax. Random initialisation, no warm start; per mini-batch, pairs selected by
u(λ), l(λ) (engine.cluster.dac_pairs), binary cross-entropy, RMSProp lr 1e-3.

- full: all 70k Fashion-MNIST images, widths 64/128, batch 1000, the published schedule (46 epochs, one pass
  over the data each).
- reduced (default): the 10k test images, widths 16/32, batch 256, the same thresholds over 15 epochs of
  `--steps` mini-batches each.

Prints ACC/NMI/ARI of the argmax read-out against the labels, per epoch and at the end. The paper's anchor is
MNIST 97.75 % (algorithms.md §7); Fashion-MNIST is a harder data set than MNIST, and the reduced run is a
fraction of the paper's training, so the numbers are not directly comparable.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import FASHION_DIR, _read_idx, clustering_scores


def load_pixels(full: bool) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images as (n, 1, 28, 28) float32 in [0, 1] and their labels."""
    parts = [("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    if full:
        parts.append(("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"))
    images = np.concatenate([_read_idx(FASHION_DIR / i) for i, _ in parts]).astype(np.float32) / 255.0
    labels = np.concatenate([_read_idx(FASHION_DIR / lab) for _, lab in parts]).astype(np.int64)
    return images[:, None], labels


def dac_network(k: int, width: int) -> object:
    from torch import nn

    def conv(cin: int, cout: int, size: int = 3) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, size, padding=size // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    w1, w2 = width, 2 * width
    return nn.Sequential(
        *conv(1, w1),
        *conv(w1, w1),
        *conv(w1, w1),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(w1),
        *conv(w1, w2),
        *conv(w2, w2),
        *conv(w2, w2),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(w2),
        *conv(w2, k, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.BatchNorm1d(k),
        nn.Linear(k, k),
        nn.BatchNorm1d(k),
        nn.ReLU(),
        nn.Linear(k, k),
        nn.BatchNorm1d(k),
        nn.ReLU(),
    )


def read_out(net: object, x: object, batch: int = 2000) -> np.ndarray:
    import torch

    net.eval()
    with torch.inference_mode():
        labels = [net(x[s : s + batch]).argmax(dim=1).cpu() for s in range(0, x.shape[0], batch)]
    net.train()
    return torch.cat(labels).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's setting (use a GPU)")
    parser.add_argument("--steps", type=int, default=10, help="mini-batches per epoch in the reduced run")
    parser.add_argument("--epochs", type=int, default=15, help="epochs in the reduced run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import torch

    from engine.cluster.dac_pairs import ThresholdSchedule, label_features, pair_loss, select_pairs
    from engine.cluster.estimator import resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    images, truth = load_pixels(args.full)
    n, k = len(images), 10
    width, batch = (64, 1000) if args.full else (16, 256)
    schedule = ThresholdSchedule() if args.full else ThresholdSchedule.over_epochs(args.epochs)
    steps = int(np.ceil(n / batch)) if args.full else args.steps
    x = torch.from_numpy(images).to(device)
    net = dac_network(k, width).to(device)
    optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3)
    setting = "full" if args.full else "reduced"
    print(
        f"DAC from pixels ({setting}): Fashion-MNIST n={n}, widths {width}/{2 * width}, batch {batch},"
        f" {schedule.n_epochs} epochs × {steps} steps, device {device}",
        flush=True,
    )
    start = time.perf_counter()
    for epoch, lam in enumerate(schedule.lambdas(), 1):
        upper, lower = schedule.upper(lam), schedule.lower(lam)
        losses, selected = [], 0
        for _ in range(steps):
            idx = torch.from_numpy(rng.choice(n, size=batch, replace=False)).to(device)
            feats = label_features(net(x[idx]))
            similarity = feats @ feats.T
            selection = select_pairs(similarity, upper, lower)
            loss, used = pair_loss(similarity, selection)
            if used:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            selected += used
        if epoch % 5 == 0 or epoch == schedule.n_epochs:
            scores = clustering_scores(truth, read_out(net, x))
            print(
                f"epoch {epoch:>2} λ={lam:.3f} u={upper:.3f} l={lower:.3f} pairs/step={selected // steps}"
                f" loss={np.mean(losses) if losses else 0:.4f} ACC={scores['ACC']:.3f} NMI={scores['NMI']:.3f}"
                f" ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    seconds = time.perf_counter() - start
    scores = clustering_scores(truth, read_out(net, x))
    print()
    print("| setting | data | n | epochs × steps | ACC | NMI | ARI | s |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| DAC from pixels, {setting} | Fashion-MNIST | {n} | {schedule.n_epochs} × {steps}"
        f" | {scores['ACC']:.3f} | {scores['NMI']:.3f} | {scores['ARI']:.3f} | {seconds:.0f} |"
    )


if __name__ == "__main__":
    main()
