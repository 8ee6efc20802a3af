"""Update rates of the continuous networks in PyTorch: the yardstick of issue 11 ("Speed").

The same networks, losses, batch sizes and optimiser as `examples/candle_updates.rs`; see
bench/README.md for the commands and the results. Install: bench/requirements-torch.txt.

    python bench/torch_updates.py --case ac --updates 400 --threads 1
    python bench/torch_updates.py --case ensemble --updates 100 --threads 1
    python bench/torch_updates.py --case rollout --updates 400 --threads 1

Cases (batch 256, Adam lr 3e-4 without weight decay, f32):
  ac        twin-critic TD step (target r + γ(1−d)(min Q̄(s',a') − α log π(a'|s')) under no_grad),
            actor step mean(α log π(a|s) − min Q(s,a)) with a = tanh(μ + σξ), soft update τ=0.005;
            actor obs→256→256→2·act, critics obs+act→256→256→1, ReLU.
  ensemble  one NLL step of the 7-member ensemble in→200→200→200→200→2·(1+obs) (Swish, or
            ReLU with --activation relu) as batched (E, in, out) matmuls, 256 samples per member, MBPO's loss and bound term.
  rollout   forward only (no_grad): actor sample, one ensemble prediction with Gaussian noise.
"""

import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

MEMBERS = 7
AC_HIDDEN = 256
ENSEMBLE_HIDDEN = (200, 200, 200, 200)
LR = 3e-4
GAMMA = 0.99
ALPHA = 0.2
TAU = 0.005
LOG_STD_BOUNDS = (-20.0, 2.0)
LOG_VAR_BOUNDS = (-10.0, 0.5)
LOG_VAR_BOUND_WEIGHT = 0.01


def mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Actor(nn.Module):
    def __init__(self, obs, act):
        super().__init__()
        self.net = mlp([obs, AC_HIDDEN, AC_HIDDEN, 2 * act])
        self.act = act

    def sample(self, obs):
        out = self.net(obs)
        mean, log_std = out[:, : self.act], out[:, self.act :].clamp(*LOG_STD_BOUNDS)
        noise = torch.randn_like(mean)
        u = mean + log_std.exp() * noise
        gaussian = -0.5 * noise.pow(2) - 0.5 * math.log(2 * math.pi) - log_std
        # log(1 − tanh² u) = 2(ln 2 − u − softplus(−2u)), as in src/continuous/nets.rs.
        log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return torch.tanh(u), (gaussian - log_det).sum(-1)


class TwinCritic(nn.Module):
    def __init__(self, obs, act):
        super().__init__()
        self.q1 = mlp([obs + act, AC_HIDDEN, AC_HIDDEN, 1])
        self.q2 = mlp([obs + act, AC_HIDDEN, AC_HIDDEN, 1])

    def forward(self, obs, action):
        x = torch.cat([obs, action], -1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)

    def min(self, obs, action):
        q1, q2 = self(obs, action)
        return torch.minimum(q1, q2)


class Ensemble(nn.Module):
    """Members as batched (E, in, out) matmuls, as the public MBPO code writes them."""

    def __init__(self, n_in, out, activation):
        super().__init__()
        self.activation = {"swish": F.silu, "relu": F.relu}[activation]
        sizes = [n_in, *ENSEMBLE_HIDDEN, 2 * out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            w = torch.empty(MEMBERS, a, b)
            nn.init.trunc_normal_(w, std=1.0 / (2.0 * math.sqrt(a)), a=-1.0 / math.sqrt(a), b=1.0 / math.sqrt(a))
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(MEMBERS, 1, b)))
        self.min_log_var = nn.Parameter(torch.full((out,), LOG_VAR_BOUNDS[0]))
        self.max_log_var = nn.Parameter(torch.full((out,), LOG_VAR_BOUNDS[1]))
        self.out = out

    def forward(self, x):
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.bmm(x, w) + b
            if i < last:
                x = self.activation(x)
        mean, raw = x[..., : self.out], x[..., self.out :]
        upper = self.max_log_var - F.softplus(self.max_log_var - raw)
        return mean, self.min_log_var + F.softplus(upper - self.min_log_var)


def adam(params):
    return torch.optim.Adam(params, lr=LR, weight_decay=0.0)


def actor_critic_step(args):
    b, o, a = args.batch, args.obs, args.act
    actor, critic = Actor(o, a), TwinCritic(o, a)
    target = TwinCritic(o, a)
    target.load_state_dict(critic.state_dict())
    target.requires_grad_(False)
    actor_opt, critic_opt = adam(actor.parameters()), adam(critic.parameters())
    obs, next_obs = torch.randn(b, o), torch.randn(b, o)
    action, reward, not_done = torch.tanh(torch.randn(b, a)), torch.randn(b), torch.ones(b)
    online, offline = list(critic.parameters()), list(target.parameters())

    def step():
        with torch.no_grad():
            next_action, next_log_prob = actor.sample(next_obs)
            y = reward + GAMMA * not_done * (target.min(next_obs, next_action) - ALPHA * next_log_prob)
        q1, q2 = critic(obs, action)
        critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean()
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        sample, log_prob = actor.sample(obs)
        actor_loss = (ALPHA * log_prob - critic.min(obs, sample)).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        with torch.no_grad():
            for theta_target, theta in zip(offline, online):
                theta_target.lerp_(theta, TAU)

    return step


def ensemble_step(args):
    n_in, out = args.obs + args.act, 1 + args.obs
    model = Ensemble(n_in, out, args.activation)
    opt = adam(model.parameters())
    x, y = torch.randn(MEMBERS, args.batch, n_in), torch.randn(MEMBERS, args.batch, out)

    def step():
        mean, log_var = model(x)
        per_member = ((mean - y).pow(2) * torch.exp(-log_var)).mean((1, 2)) + log_var.mean((1, 2))
        bounds = model.max_log_var.sum() - model.min_log_var.sum()
        loss = per_member.sum() + LOG_VAR_BOUND_WEIGHT * bounds
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def rollout_step(args):
    actor, model = Actor(args.obs, args.act), Ensemble(args.obs + args.act, 1 + args.obs, args.activation)
    obs = torch.randn(args.batch, args.obs)

    def step():
        with torch.no_grad():
            action, _ = actor.sample(obs)
            x = torch.cat([obs, action], -1).unsqueeze(0).expand(MEMBERS, -1, -1)
            mean, log_var = model(x)
            draw = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            draw.numpy()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["ac", "ensemble", "rollout"], required=True)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--obs", type=int, default=2)
    parser.add_argument("--act", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--activation", choices=["swish", "relu"], default="swish")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    step = {"ac": actor_critic_step, "ensemble": ensemble_step, "rollout": rollout_step}[args.case](args)
    for _ in range(args.warmup):
        step()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.updates):
        step()
    rate = args.updates / (time.perf_counter() - start)
    cpu_rate = args.updates / (time.process_time() - cpu_start)
    print(
        f"backend=torch-{torch.__version__} case={args.case} obs={args.obs} act={args.act} batch={args.batch} "
        f"activation={args.activation} "
        f"threads={args.threads} updates={args.updates} updates_per_s={rate:.1f} updates_per_cpu_s={cpu_rate:.1f}"
    )


if __name__ == "__main__":
    main()
