"""The head's optimizer is torch's SGD with momentum and per-group weight decay, written out so that fitting
never imports torch._dynamo (1.3 s of every re-cluster command)."""

from __future__ import annotations

import subprocess
import sys

import torch

from engine.cluster.mlc_head import MomentumSGD


def _two_groups(seed: int) -> tuple[torch.nn.Module, list[dict[str, object]]]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    groups = [
        {"params": list(model[0].parameters()), "weight_decay": 0.01},
        {"params": list(model[2].parameters()), "weight_decay": 0.0},
    ]
    return model, groups


def test_it_takes_the_same_steps_as_torch_sgd() -> None:
    ours, our_groups = _two_groups(0)
    theirs, their_groups = _two_groups(0)
    mine = MomentumSGD(our_groups, lr=0.05, momentum=0.9)
    reference = torch.optim.SGD(their_groups, lr=0.05, momentum=0.9)
    data = torch.randn(40, 6, generator=torch.Generator().manual_seed(1))
    for step in range(12):
        batch = data[(step * 8) % 40 : (step * 8) % 40 + 8]
        for model, optimizer in ((ours, mine), (theirs, reference)):
            optimizer.zero_grad(set_to_none=True)
            # The second layer gets no gradient in the first steps, as the cluster head during warm-up.
            out = model[1](model[0](batch)).sum() if step < 3 else model(batch).pow(2).mean()
            out.backward()
            optimizer.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fitting_never_imports_torch_dynamo() -> None:
    code = (
        "import sys, numpy as np\n"
        "from engine.cluster import CPPClusterer\n"
        "x = np.random.default_rng(0).normal(size=(120, 16)).astype('float32')\n"
        "CPPClusterer(random_state=0).fit(x)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
