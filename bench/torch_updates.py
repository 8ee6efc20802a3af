"""Update rates of the continuous learner in PyTorch: the yardstick of issue 11 ("Speed").

The same work as `examples/candle_updates.rs`, which times the library's own `Agent::update`,
`DynamicsModel::fit` and `dynamics::rollout`: this file writes each of them out in PyTorch, step
for step (the comments name the Rust they mirror). See bench/README.md for the commands, the
results and the differences that remain. Install: bench/requirements-torch.txt.

    python bench/torch_updates.py --case ac --updates 250 --threads 1
    python bench/torch_updates.py --case ensemble --updates 200 --threads 1
    python bench/torch_updates.py --case rollout --updates 250 --threads 1

Cases (f32, batch 256, Adam lr 3e-4 without weight decay):
  ac        Agent::update with the SAC objective: twin-critic TD step (target
            r + γ·(1−d)·(min Q̄(s',a') − α log π(a'|s')) under no_grad), actor step
            mean(α log π(a|s) − min Q(s,a)) with a = tanh(μ + σξ), κ ← ω (copy of the actor
            into the prior policy), soft update τ = 0.005, both losses read back;
            actor obs→256→256→2·act, critics obs+act→256→256→1, ReLU.
  ensemble  DynamicsModel::fit, likelihood objective: 7 members in→200→200→200→200→2·(1+obs)
            (Swish, or ReLU with --activation relu) on a D_env of 25·batch transitions, 20 %
            held out, 5 epochs of 20 minibatches (one update = one minibatch step: −mean log p
            over members and samples + 0.01·Σ(max_lv − min_lv)), then the holdout pass and the
            elites. --updates and --warmup are rounded up to whole fits (100 steps); the fit's
            fixed work alone (a fit with no epoch) is printed as fit_overhead_cpu_ms.
  rollout   dynamics::rollout: batch one-step MBPO rollouts (p_θ alone) under no_grad: start
            states drawn from D_env, actor sample, the 7 members' prediction, a random elite
            per sample with Gaussian noise, the transitions written into a model buffer.
"""

import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

MEMBERS = 7
ELITES = 5
AC_HIDDEN = 256
ENSEMBLE_HIDDEN = (200, 200, 200, 200)
LR = 3e-4
GAMMA = 0.99
ALPHA = 0.2
TAU = 0.005
LOG_STD_BOUNDS = (-20.0, 2.0)
LOG_VAR_BOUNDS = (-10.0, 0.5)
LOG_VAR_BOUND_WEIGHT = 0.01
LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# D_env holds ENV_BATCHES minibatches: 20 % held out, 20 to train on; FIT_EPOCHS epochs per fit.
ENV_BATCHES = 25
FIT_EPOCHS = 5
HOLDOUT = 0.2
MAX_HOLDOUT = 5000
OVERHEAD_FITS = 20
# Mountain Car's goal (the rollout asks which next states are terminal).
GOAL_POSITION, GOAL_VELOCITY = 0.45, 0.0


def mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """nets::GaussianActor."""

    def __init__(self, obs, act):
        super().__init__()
        self.net = mlp([obs, AC_HIDDEN, AC_HIDDEN, 2 * act])
        self.act = act

    def sample(self, obs):
        out = self.net(obs)
        mean, log_std = out[:, : self.act], out[:, self.act :].clamp(*LOG_STD_BOUNDS)
        noise = torch.randn_like(mean)
        u = mean + log_std.exp() * noise
        gaussian = -0.5 * noise.pow(2) - LN_SQRT_2PI - log_std
        # log(1 − tanh² u) = 2(ln 2 − u − softplus(−2u)), as in src/continuous/nets.rs.
        log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return torch.tanh(u), (gaussian - log_det).sum(-1)


class TwinCritic(nn.Module):
    """nets::TwinCritic."""

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
    """nets::Ensemble: members as batched (E, in, out) matmuls, as the public MBPO code writes them."""

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


def env_buffer(args):
    """D_env: ENV_BATCHES·batch transitions, none terminal (as the Rust side's ReplayBuffer)."""
    n = ENV_BATCHES * args.batch
    return {
        "obs": torch.randn(n, args.obs),
        "action": torch.tanh(torch.randn(n, args.act)),
        "reward": torch.randn(n),
        "next_obs": torch.randn(n, args.obs),
    }


def actor_critic_step(args):
    """Agent::update with Objective::Sac."""
    b, o, a = args.batch, args.obs, args.act
    actor, critic = Actor(o, a), TwinCritic(o, a)
    prior, target = Actor(o, a), TwinCritic(o, a)
    prior.load_state_dict(actor.state_dict())
    target.load_state_dict(critic.state_dict())
    prior.requires_grad_(False)
    target.requires_grad_(False)
    actor_opt, critic_opt = adam(actor.parameters()), adam(critic.parameters())
    obs, next_obs = torch.randn(b, o), torch.randn(b, o)
    action, reward, not_done = torch.tanh(torch.randn(b, a)), torch.randn(b), torch.ones(b)
    online, offline = list(critic.parameters()), list(target.parameters())
    policy, prior_params = list(actor.parameters()), list(prior.parameters())

    def step():
        # Agent::critic_target: a' ∼ q_ω(·|s'), the target critics, losses::sac_critic_target.
        with torch.no_grad():
            next_action, next_log_prob = actor.sample(next_obs)
            y = reward + GAMMA * (not_done * (target.min(next_obs, next_action) - ALPHA * next_log_prob))
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
            for kappa, omega in zip(prior_params, policy):  # hard_copy: κ ← ω
                kappa.copy_(omega)
            for theta_target, theta in zip(offline, online):  # soft_update
                theta_target.lerp_(theta, TAU)
        # UpdateStats reads both losses back.
        actor_loss.item()
        return 1, critic_loss.item()

    return step


def fit(model, opt, data, epochs, batch, state=None):
    """DynamicsModel::fit with FitObjective::Likelihood; returns (minibatch steps, last epoch's loss).

    With a dict `state`, also stores there what the model keeps for its rollouts: the
    standardiser (`mean`, `std`) and the `elites`, best first (bench/torch_epoch.py uses them).
    """
    obs = data["obs"]
    # The whole of D_env gathered: inputs [s, a], targets [r, s' − s].
    inputs = torch.cat([obs, data["action"]], 1)
    targets = torch.cat([data["reward"].unsqueeze(1), data["next_obs"] - obs], 1)
    n = inputs.shape[0]
    order = torch.randperm(n)
    n_holdout = min(max(int(n * HOLDOUT), 1), MAX_HOLDOUT, n - 1)
    holdout, train = order[:n_holdout], order[n_holdout:]
    # Standardiser::fit on the training inputs (population standard deviation, 1 where ~0).
    train_inputs = inputs[train]
    mean, std = train_inputs.mean(0), train_inputs.std(0, unbiased=False)
    std = torch.where(std < 1e-12, torch.ones_like(std), std)
    per_epoch = math.ceil(len(train) / batch)
    last_epoch_loss = math.nan
    for _ in range(epochs):
        # Each member on its own shuffle of the training set.
        shuffles = torch.stack([train[torch.randperm(len(train))] for _ in range(MEMBERS)])
        total = 0.0
        for j in range(per_epoch):
            rows = shuffles[:, j * batch : (j + 1) * batch]
            x, y = (inputs[rows] - mean) / std, targets[rows]
            mu, log_var = model(x)
            # nets::gaussian_log_density, then losses::prior_dynamics_nll (Eq. 10).
            log_lik = ((mu - y).pow(2) * torch.exp(-log_var) + log_var).mul(-0.5).sub(LN_SQRT_2PI).sum(-1)
            loss = -log_lik.mean()
            bound = model.max_log_var.sum() - model.min_log_var.sum()
            opt.zero_grad()
            (loss + LOG_VAR_BOUND_WEIGHT * bound).backward()
            opt.step()
            total += loss.item()
        last_epoch_loss = total / per_epoch
    # Elites: the smallest holdout mean-squared error of the mean.
    with torch.no_grad():
        xh = ((inputs[holdout] - mean) / std).unsqueeze(0).expand(MEMBERS, -1, -1).contiguous()
        mu, _ = model(xh)
        mse = (mu - targets[holdout]).pow(2).mean((1, 2))
        elites = torch.argsort(mse, stable=True)[:ELITES]
        mse[elites].mean().item()
    if state is not None:
        state.update(mean=mean, std=std, elites=elites)
    return epochs * per_epoch, last_epoch_loss


def ensemble_step(args):
    model = Ensemble(args.obs + args.act, 1 + args.obs, args.activation)
    opt = adam(model.parameters())
    data = env_buffer(args)
    fit(model, opt, data, 0, args.batch)
    cpu_start, start = time.process_time(), time.perf_counter()
    for _ in range(OVERHEAD_FITS):
        fit(model, opt, data, 0, args.batch)
    overhead = ((time.process_time() - cpu_start) * 1e3 / OVERHEAD_FITS, (time.perf_counter() - start) * 1e3 / OVERHEAD_FITS)
    return (lambda: fit(model, opt, data, FIT_EPOCHS, args.batch)), overhead


def rollout_step(args):
    """dynamics::rollout of batch one-step rollouts with RolloutModels { prior: None } (MBPO)."""
    if (args.obs, args.act) != (2, 1):
        raise SystemExit("the rollout case runs Mountain Car's shape only (--obs 2 --act 1)")
    actor, model = Actor(args.obs, args.act), Ensemble(args.obs + args.act, 1 + args.obs, args.activation)
    start = env_buffer(args)
    n, b = start["obs"].shape[0], args.batch
    # The model's standardiser before its first fit (the identity), and its first elites.
    mean, std = torch.zeros(args.obs + args.act), torch.ones(args.obs + args.act)
    elites = torch.arange(ELITES)
    # The model buffer D_model: a ring of capacity n, as a ReplayBuffer.
    ring = {
        "obs": torch.zeros(n, args.obs),
        "action": torch.zeros(n, args.act),
        "reward": torch.zeros(n),
        "next_obs": torch.zeros(n, args.obs),
        "not_done": torch.zeros(n),
        "log_ratio": torch.zeros(n),
    }
    position = [0]
    rows = torch.arange(b)

    def step():
        with torch.no_grad():
            s = start["obs"][torch.randint(n, (b,))]
            action, _ = actor.sample(s)
            # DynamicsModel::sample: predict (standardise, every member), a random elite per sample.
            x = ((torch.cat([s, action], -1) - mean) / std).unsqueeze(0).expand(MEMBERS, -1, -1).contiguous()
            mu, log_var = model(x)
            pick = elites[torch.randint(ELITES, (b,))]
            y = mu[pick, rows] + torch.exp(0.5 * log_var[pick, rows]) * torch.randn(b, mu.shape[-1])
            reward, next_obs = y[:, 0], s + y[:, 1:]
            terminated = (next_obs[:, 0] >= GOAL_POSITION) & (next_obs[:, 1] >= GOAL_VELOCITY)
            slots = (position[0] + rows) % n
            position[0] = (position[0] + b) % n
            ring["obs"][slots] = s
            ring["action"][slots] = action
            ring["reward"][slots] = reward
            ring["next_obs"][slots] = next_obs
            ring["not_done"][slots] = (~terminated).float()
            ring["log_ratio"][slots] = 0.0
            return 1, ring["obs"][slots[-1]].sum().item()

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
    overhead = None
    if args.case == "ensemble":
        step, overhead = ensemble_step(args)
    else:
        step = {"ac": actor_critic_step, "rollout": rollout_step}[args.case](args)
    done = 0
    while done < args.warmup:
        done += step()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    updates, last_loss = 0, math.nan
    while updates < args.updates:
        n, last_loss = step()
        updates += n
    rate = updates / (time.perf_counter() - start)
    cpu_rate = updates / (time.process_time() - cpu_start)
    extra = "" if overhead is None else f" fit_overhead_cpu_ms={overhead[0]:.2f} fit_overhead_wall_ms={overhead[1]:.2f}"
    print(
        f"backend=torch-{torch.__version__} case={args.case} obs={args.obs} act={args.act} batch={args.batch} "
        f"activation={args.activation} threads={args.threads} updates={updates} updates_per_s={rate:.1f} "
        f"updates_per_cpu_s={cpu_rate:.1f}{extra} last_loss={last_loss:.6f}"
    )


if __name__ == "__main__":
    main()
