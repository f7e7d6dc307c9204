"""The MLC head (trunk, feature head, cluster head) and its rate-reduction training (algorithms.md §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from engine.cluster.coding_rate import EPS2, compression_rate, expansion_rate
from engine.cluster.sinkhorn import sinkhorn_membership
from engine.progress import ProgressReporter, check_cancelled


@dataclass(frozen=True)
class TrainConfig:
    """Sizes and hyper-parameters of one MLC training run."""

    hidden_dim: int
    z_dim: int
    batch_size: int
    n_steps: int
    warmup_steps: int
    lr: float
    eta: float = 0.175
    sinkhorn_iters: int = 5
    gamma: float = 1.0
    beta: float = 0.05
    eps2: float = EPS2
    momentum: float = 0.9
    weight_decay: float = 1e-4
    cluster_weight_decay: float = 5e-3
    anchors: int | None = None  # columns of Π sampled per step for R_c; None uses them all


def default_config(n: int, dim: int, **overrides: object) -> TrainConfig:
    """Sizes chosen from the library size so that small libraries train in seconds on a 2-core CPU.

    The reference (h=4096, d=128, batch 1024) is sized for a GPU. The per-step cost is dominated by
    R_c: b weighted d×d covariances, O(b²d²), so b and d are what to keep small on a CPU. A batch of
    512 still holds dozens of samples of every album-sized cluster, and d=64 leaves each of up to
    ~30 clusters a few dimensions of its own. Below 1000 photos d is 16: with few samples per dimension
    the expansion term spreads each album over many directions and the coding length then splits it
    (24 toy-CLIP libraries of 50–500 photos, bench/RESULTS-cluster.md: k within ±1 of the truth for 13
    at d = n/8, 18 at d = 16 or 24). From 1000 photos d grows as n/32 up to 64.
    R_c is estimated from 128 of the batch's columns of Π per step, 64 from 1000 photos (`anchors`, see
    `mlc_loss`).
    """
    batch = max(2, min(512, n))
    steps_per_epoch = math.ceil(n / batch)
    # Small libraries (one batch per epoch) stop at 80 steps: further steps spread the larger albums over
    # more directions, which the coding length then splits (toy-CLIP libraries, bench/k_choice.py). On the 24
    # toy libraries 80 steps chose k as 100 did (17 within ±1, mean ACC 0.880 against 0.882) in 17 % less
    # time; 60 steps lost one (16, 0.861).
    # Larger libraries stop at 200 steps (10 epochs of 10k photos): the chosen k and ACC of the synthetic and
    # Fashion-MNIST sets in bench/RESULTS-cluster.md hold there, and each step costs a tenth of a second.
    n_steps = int(min(200, max(80 if n < 1000 else 150, 15 * steps_per_epoch)))
    params: dict[str, object] = {
        # Below 1000 photos the trunk is most of a step's cost; 256 units chose k as well on the toy libraries.
        "hidden_dim": 1024 if n >= 2000 else 512 if n >= 1000 else 256,
        "z_dim": 16 if n < 1000 else min(64, n // 32),
        "batch_size": batch,
        "n_steps": n_steps,
        # A quarter of the steps, at least 25: below 1000 photos the 80 steps keep the 25 warm-up steps that 100
        # had (20 of 80 chose k within ±1 on 16 toy libraries of 24, 25 on 17).
        "warmup_steps": min(50, max(25, n_steps // 4)),
        "lr": 1e-3,
        # From 1000 photos R_c uses 64 columns of Π per step: it was half of a 10k step's 65 ms, and Fashion-MNIST
        # (10k) kept its quality (ACC 0.586 / NMI 0.621 against 0.585 / 0.615 with 128) in 18 s against 22 s.
        # Smaller libraries keep 128, with which their choice of k was measured (bench/RESULTS-cluster.md).
        "anchors": 128 if n < 1000 else 64,
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**params)  # type: ignore[arg-type]


class MLCHead(nn.Module):
    """Trunk Linear(D,h)→BatchNorm→ReLU→Linear(h,h)→ReLU with two L2-normalised Linear(h,d) heads."""

    def __init__(self, in_dim: int, hidden_dim: int, z_dim: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(in_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
        )
        self.feature_head = nn.Linear(hidden_dim, z_dim)
        self.cluster_head = nn.Linear(hidden_dim, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features Z and cluster codes C, both (n, d) with unit rows."""
        h = self.trunk(x)
        return F.normalize(self.feature_head(h), dim=1), F.normalize(self.cluster_head(h), dim=1)


def mlc_loss(
    z: torch.Tensor, c: torch.Tensor, config: TrainConfig, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """−R(Z) + γ R_c(Z, Π) + (β/2)‖Π‖_F², with Π from the batch's cluster codes.

    With `config.anchors` below the batch size, R_c is estimated from that many columns of Π drawn at
    random (scaled up by b/anchors, an unbiased estimate of the sum over columns): the b weighted d×d
    covariances and their logdets are the step's main cost, and a few hundred neighbourhoods per step
    carry the same gradient direction at a fraction of the cost.
    """
    pi = sinkhorn_membership(c, eta=config.eta, n_iter=config.sinkhorn_iters)
    r = expansion_rate(z, config.eps2)
    b = pi.shape[1]
    if config.anchors is not None and config.anchors < b:
        cols = torch.randperm(b, generator=generator)[: config.anchors].to(pi.device)
        rc = compression_rate(z, pi[:, cols], config.eps2) * (b / config.anchors)
    else:
        rc = compression_rate(z, pi, config.eps2)
    reg = 0.5 * config.beta * (pi**2).sum()
    loss = -r + config.gamma * rc + reg
    return loss, {"R": float(r.detach()), "Rc": float(rc.detach())}


def _batches(n: int, batch: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A shuffled epoch split into nearly equal batches, so no batch is too small for BatchNorm."""
    order = torch.randperm(n, generator=generator)
    n_batches = max(1, n // batch)
    return list(torch.tensor_split(order, n_batches))


class MomentumSGD:
    """`torch.optim.SGD(groups, lr, momentum)` with per-group weight decay, written out (its single-tensor
    arithmetic, step for step). Creating any `torch.optim` optimizer imports `torch._dynamo`: 1.3 s of every
    re-cluster command, more than fitting a few hundred photos."""

    def __init__(self, groups: list[dict[str, Any]], lr: float, momentum: float) -> None:
        self.groups = [(list(group["params"]), float(group.get("weight_decay", 0.0))) for group in groups]
        self.lr = lr
        self.momentum = momentum
        self._buffers: dict[int, torch.Tensor] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for params, _ in self.groups:
            for p in params:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for params, weight_decay in self.groups:
            for p in params:
                if p.grad is None:  # e.g. the cluster head during warm-up: untouched, as torch leaves it
                    continue
                grad = p.grad if weight_decay == 0 else p.grad.add(p, alpha=weight_decay)
                if self.momentum != 0:
                    buffer = self._buffers.get(id(p))
                    if buffer is None:
                        buffer = self._buffers[id(p)] = torch.clone(grad).detach()
                    else:
                        buffer.mul_(self.momentum).add_(grad)
                    grad = buffer
                p.add_(grad, alpha=-self.lr)


def train_mlc(
    x: torch.Tensor,
    config: TrainConfig,
    seed: int,
    progress: ProgressReporter,
    phase: str = "train cluster head",
) -> MLCHead:
    """Train an MLC head on x (n, D), already on its device; returns the head in eval mode. `phase` names the
    progress phase.

    The first `warmup_steps` minimise −R(Z) only; then the feature head's weights are copied into the
    cluster head and the full objective takes over. Raises `Cancelled` between steps on request.
    """
    n, dim = x.shape
    with torch.random.fork_rng(devices=[]):
        # Weight init draws from the global generator; forking keeps the caller's stream untouched.
        torch.manual_seed(seed)
        head = MLCHead(dim, config.hidden_dim, config.z_dim).to(x.device)
    generator = torch.Generator().manual_seed(seed)
    groups = [
        {
            "params": [*head.trunk.parameters(), *head.feature_head.parameters()],
            "weight_decay": config.weight_decay,
        },
        {"params": list(head.cluster_head.parameters()), "weight_decay": config.cluster_weight_decay},
    ]
    optimizer = MomentumSGD(groups, lr=config.lr, momentum=config.momentum)
    progress.phase(phase, config.n_steps)
    if n < 2:
        head.eval()  # BatchNorm cannot train on one sample; a single photo needs no learned features
        return head
    head.train()
    step = 0
    while step < config.n_steps:
        for idx in _batches(n, config.batch_size, generator):
            if step >= config.n_steps:
                break
            check_cancelled(progress)
            xb = x[idx.to(x.device)]
            if step < config.warmup_steps:
                z = F.normalize(head.feature_head(head.trunk(xb)), dim=1)
                loss = -expansion_rate(z, config.eps2)
            else:
                if step == config.warmup_steps:
                    with torch.no_grad():
                        head.cluster_head.load_state_dict(head.feature_head.state_dict())
                z, c = head(xb)
                loss, _ = mlc_loss(z, c, config, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            progress.advance(1)
    if config.warmup_steps >= config.n_steps:
        with torch.no_grad():
            head.cluster_head.load_state_dict(head.feature_head.state_dict())
    head.eval()
    return head


@torch.inference_mode()
def encode(head: MLCHead, x: torch.Tensor, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Z and C for every row of x, in chunks so 100k photos never need one huge activation."""
    zs, cs = [], []
    for start in range(0, x.shape[0], chunk):
        z, c = head(x[start : start + chunk])
        zs.append(z)
        cs.append(c)
    return torch.cat(zs), torch.cat(cs)
