"""One training epoch at the paper's Table 1 schedule, in PyTorch on the CPU (issue 19).

The yardstick of `riskmdp train --env hopper --algo mbpo --preset paper --steps 6000 --seed 1
--threads 1`: the same loop as the library's `Learner::run` (src/continuous/train/mod.rs), with
the same networks, batch sizes and schedule (TrainConfig::default, i.e. Table 1), written out in
PyTorch with gymnasium's Hopper-v4. The comments name the Rust each part mirrors; the networks,
the actor-critic losses and the model fit are imported from bench/torch_updates.py, which mirrors
`Agent::update` and `DynamicsModel::fit` step for step. See bench/README.md ("One training epoch
at Table 1's schedule") for the commands, the results and what still differs.

    python bench/torch_epoch.py --steps 6000 --seed 1 --threads 1

The schedule (TrainConfig::default):
  steps 1..5000    uniform random actions in (−1, 1)³ (the warm-up), every transition into D_env
  from step 5000   after each environment step: every 250 steps a model phase (a fit of the
                   7-member 4×200 ReLU Gaussian ensemble on all of D_env, 5 epochs of minibatches
                   of 256, min(20 %, 5000) held out to pick 5 elites; then 100 000 one-step
                   rollouts of p_θ into D_model, capacity 400 000), then 20 SAC updates on
                   minibatches of 256 from D_model (real_ratio 0), α 0.2, γ 0.99, τ 0.005,
                   Adam 3e-4; actions from the prior policy π_κ (= q_ω after every update)
  every 1000 steps 5 episodes of the deterministic actor tanh μ in the real environment
So `--steps 6000` holds one epoch: 5 model phases (steps 5000, 5250, 5500, 5750, 6000) and
1001 × 20 actor-critic updates.

Prints, at the end, the CPU seconds of the whole process and of the epoch alone (from the
5000th environment step on: its model phase, updates and evaluation included), the CPU seconds
of each part, the peak RSS, and the last evaluation's mean return.
"""

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

sys.dont_write_bytecode = True  # no bench/__pycache__ from the import below
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_updates as tu  # noqa: E402  (Actor, TwinCritic, Ensemble, adam, fit, the constants)

# TrainConfig::default (src/continuous/config.rs): Table 1 and the public MBPO/SAC code's settings.
WARMUP_STEPS = 5000
EVAL_EVERY = 1000
EVAL_EPISODES = 5
MODEL_EVERY = 250
ROLLOUTS = 100_000
UPDATES_PER_STEP = 20
ENV_BUFFER = 1_000_000
MODEL_BUFFER = 400_000
BATCH_SIZE = 256
DYNAMICS_BATCH_SIZE = 256
DYNAMICS_EPOCHS = 5
# dynamics::ROLLOUT_CHUNK: rollouts evaluated in one batch.
ROLLOUT_CHUNK = 10_000
# Hopper's health check on an observation (Hopper::is_terminal, MBPO's static_fns/hopper.py).
MIN_Z, MAX_ANGLE, MAX_STATE = 0.7, 0.2, 100.0
# The other values (7 members, 5 elites, 4×200 ReLU ensemble, 2×256 actor and critics, Adam 3e-4,
# α 0.2, γ 0.99, τ 0.005, the log-std and log-variance bounds, holdout 20 % ≤ 5000) are those of
# bench/torch_updates.py: MEMBERS, ELITES, ENSEMBLE_HIDDEN, AC_HIDDEN, LR, ALPHA, GAMMA, TAU, ….
assert (tu.MEMBERS, tu.ELITES, tu.ENSEMBLE_HIDDEN, tu.AC_HIDDEN) == (7, 5, (200,) * 4, 256)
assert (tu.LR, tu.GAMMA, tu.ALPHA, tu.TAU, tu.HOLDOUT, tu.MAX_HOLDOUT) == (3e-4, 0.99, 0.2, 0.005, 0.2, 5000)


class ReplayBuffer:
    """continuous::buffer::ReplayBuffer: a ring of transitions; sampling uniform with replacement.

    The storage is `torch.empty`, so pages are touched as transitions arrive (the Rust buffer's
    Vecs grow as they fill): the peak RSS counts what is stored, not the capacity.
    """

    def __init__(self, obs_dim, action_dim, capacity):
        self.capacity, self.len, self.position = capacity, 0, 0
        self.obs = torch.empty(capacity, obs_dim)
        self.action = torch.empty(capacity, action_dim)
        self.reward = torch.empty(capacity)
        self.next_obs = torch.empty(capacity, obs_dim)
        self.not_done = torch.empty(capacity)
        self.log_ratio = torch.empty(capacity)

    def push_many(self, obs, action, reward, next_obs, terminated):
        """ReplayBuffer::push for each row, in order (overwriting the oldest when full)."""
        n = obs.shape[0]
        slots = (self.position + torch.arange(n)) % self.capacity
        self.obs[slots] = obs
        self.action[slots] = action
        self.reward[slots] = reward
        self.next_obs[slots] = next_obs
        self.not_done[slots] = 1.0 - terminated.float()
        self.log_ratio[slots] = 0.0
        self.position = (self.position + n) % self.capacity
        self.len = min(self.len + n, self.capacity)

    def push(self, obs, action, reward, next_obs, terminated):
        self.push_many(obs[None], action[None], torch.tensor([reward]), next_obs[None], torch.tensor([terminated]))

    def sample(self, n):
        """ReplayBuffer::sample: n indices uniform with replacement, gathered."""
        idx = torch.randint(self.len, (n,))
        return self.obs[idx], self.action[idx], self.reward[idx], self.next_obs[idx], self.not_done[idx]

    def all(self):
        """ReplayBuffer::gather(0..len), as DynamicsModel::fit starts."""
        n = self.len
        return {"obs": self.obs[:n], "action": self.action[:n], "reward": self.reward[:n], "next_obs": self.next_obs[:n]}


class Agent:
    """continuous::agent::Agent with Objective::Sac (the MBPO baseline)."""

    def __init__(self, obs_dim, action_dim):
        self.actor, self.critic = tu.Actor(obs_dim, action_dim), tu.TwinCritic(obs_dim, action_dim)
        self.prior, self.target = tu.Actor(obs_dim, action_dim), tu.TwinCritic(obs_dim, action_dim)
        self.prior.load_state_dict(self.actor.state_dict())
        self.target.load_state_dict(self.critic.state_dict())
        self.prior.requires_grad_(False)
        self.target.requires_grad_(False)
        self.actor_opt, self.critic_opt = tu.adam(self.actor.parameters()), tu.adam(self.critic.parameters())
        self.pairs_prior = list(zip(self.prior.parameters(), self.actor.parameters()))
        self.pairs_target = list(zip(self.target.parameters(), self.critic.parameters()))

    def act(self, obs):
        """Agent::act: a ∼ π_κ(·|s), the behaviour policy."""
        with torch.no_grad():
            action, _ = self.prior.sample(obs[None])
        return action[0]

    def act_deterministic(self, obs):
        """Agent::act_deterministic: tanh μ_ω(s) (GaussianActor::mode)."""
        with torch.no_grad():
            out = self.actor.net(obs[None])
        return torch.tanh(out[0, : self.actor.act])

    def update(self, batch):
        """Agent::update with Objective::Sac: the step of torch_updates.actor_critic_step on a sampled batch."""
        obs, action, reward, next_obs, not_done = batch
        # Agent::critic_target: a' ∼ q_ω(·|s'), the target critics, losses::sac_critic_target.
        with torch.no_grad():
            next_action, next_log_prob = self.actor.sample(next_obs)
            y = reward + tu.GAMMA * (not_done * (self.target.min(next_obs, next_action) - tu.ALPHA * next_log_prob))
        q1, q2 = self.critic(obs, action)
        critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean()  # losses::critic_loss, twice
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        sample, log_prob = self.actor.sample(obs)
        actor_loss = (tu.ALPHA * log_prob - self.critic.min(obs, sample)).mean()  # losses::sac_policy_loss
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        with torch.no_grad():
            for kappa, omega in self.pairs_prior:  # hard_copy: κ ← ω
                kappa.copy_(omega)
            for theta_target, theta in self.pairs_target:  # nets::soft_update
                theta_target.lerp_(theta, tu.TAU)
        # UpdateStats reads both losses back.
        return critic_loss.item(), actor_loss.item()


class DynamicsModel:
    """continuous::dynamics::DynamicsModel (p_θ; ReLU, Table 1)."""

    def __init__(self, obs_dim, action_dim):
        self.obs_dim = obs_dim
        self.model = tu.Ensemble(obs_dim + action_dim, 1 + obs_dim, "relu")
        self.opt = tu.adam(self.model.parameters())
        # Before the first fit: the identity standardiser and the first `elites` members.
        self.state = {
            "mean": torch.zeros(obs_dim + action_dim),
            "std": torch.ones(obs_dim + action_dim),
            "elites": torch.arange(tu.ELITES),
        }

    def fit(self, d_env):
        """DynamicsModel::fit with FitObjective::Likelihood: torch_updates.fit, the standardiser and elites kept."""
        return tu.fit(self.model, self.opt, d_env.all(), DYNAMICS_EPOCHS, DYNAMICS_BATCH_SIZE, self.state)

    def sample(self, obs, action):
        """DynamicsModel::sample: every member's prediction, a random elite per sample plus noise."""
        x = ((torch.cat([obs, action], -1) - self.state["mean"]) / self.state["std"]).unsqueeze(0)
        mu, log_var = self.model(x.expand(tu.MEMBERS, -1, -1).contiguous())
        b = obs.shape[0]
        elites = self.state["elites"]
        pick = elites[torch.randint(len(elites), (b,))]
        rows = torch.arange(b)
        y = mu[pick, rows] + torch.exp(0.5 * log_var[pick, rows]) * torch.randn(b, mu.shape[-1])
        return obs + y[:, 1:], y[:, 0]


def hopper_is_terminal(obs):
    """Hopper::is_terminal on a batch of observations (MBPO's static_fns/hopper.py)."""
    healthy = (
        torch.isfinite(obs).all(1)
        & (obs[:, 1:].abs() < MAX_STATE).all(1)
        & (obs[:, 0] > MIN_Z)
        & (obs[:, 1].abs() < MAX_ANGLE)
    )
    return ~healthy


def rollout(d_env, model, actor, d_model):
    """dynamics::rollout with RolloutModels { next_state: p_θ, prior: None } (MBPO), one step each."""
    with torch.no_grad():
        done = 0
        while done < ROLLOUTS:
            b = min(ROLLOUTS - done, ROLLOUT_CHUNK)
            done += b
            s = d_env.obs[torch.randint(d_env.len, (b,))]  # ReplayBuffer::sample_indices
            action, _ = actor.sample(s)
            next_obs, reward = model.sample(s, action)
            d_model.push_many(s, action, reward, next_obs, hopper_is_terminal(next_obs))


def eval_seed(seed, j):
    """train::eval_seed: the seed of evaluation episode j, apart from the training stream."""
    return (seed * 0x9E3779B97F4A7C15 + 0x5EED0000 + j) % 2**64


def evaluate(env, agent, seed):
    """Learner::evaluate: EVAL_EPISODES episodes of tanh μ_ω; (mean return, mean length)."""
    total, length = 0.0, 0
    for j in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=eval_seed(seed, j))
        while True:  # gymnasium's TimeLimit truncates at 1000 steps
            action = agent.act_deterministic(torch.as_tensor(obs, dtype=torch.float32))
            obs, reward, terminated, truncated, _ = env.step(action.numpy())
            total += reward
            length += 1
            if terminated or truncated:
                break
    return total / EVAL_EPISODES, length / EVAL_EPISODES


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    env, eval_env = gym.make("Hopper-v4"), gym.make("Hopper-v4")
    obs_dim, action_dim = env.observation_space.shape[0], env.action_space.shape[0]
    low, high = env.action_space.low, env.action_space.high
    # Learner::new: actor and critics, then p_θ (MBPO uses no q_φ; the library builds one anyway, unused).
    agent = Agent(obs_dim, action_dim)
    prior_dynamics = DynamicsModel(obs_dim, action_dim)
    d_env = ReplayBuffer(obs_dim, action_dim, ENV_BUFFER)
    d_model = ReplayBuffer(obs_dim, action_dim, MODEL_BUFFER)
    rng = np.random.default_rng(args.seed)

    # CPU seconds of each part of the loop.
    parts = dict.fromkeys(["env_and_act", "model_fit", "rollout", "updates", "evaluation"], 0.0)
    clock = time.process_time
    epoch_start = None
    last_return, last_length, fits, updates = math.nan, math.nan, 0, 0

    # Learner::run.
    obs, _ = env.reset(seed=args.seed)
    obs = torch.as_tensor(obs, dtype=torch.float32)
    for step in range(1, args.steps + 1):  # `step` is Learner::step after this environment step
        t = clock()
        if step - 1 < WARMUP_STEPS:  # the warm-up: uniform actions (warmup_action_repeat = 1)
            action = torch.as_tensor(rng.random(action_dim, dtype=np.float32) * 2.0 - 1.0)
        else:
            action = agent.act(obs)
        env_action = low + (action.numpy().astype(np.float64) + 1.0) * 0.5 * (high - low)  # to_env_action
        next_obs, reward, terminated, truncated, _ = env.step(env_action.astype(np.float32))
        next_obs = torch.as_tensor(next_obs, dtype=torch.float32)
        d_env.push(obs, action, float(reward), next_obs, bool(terminated))
        if terminated or truncated:
            obs, _ = env.reset()
            obs = torch.as_tensor(obs, dtype=torch.float32)
        else:
            obs = next_obs
        parts["env_and_act"] += clock() - t
        if step == WARMUP_STEPS:
            epoch_start = clock()
        if step >= WARMUP_STEPS:
            if (step - WARMUP_STEPS) % MODEL_EVERY == 0:  # Learner::model_phase (MBPO)
                t = clock()
                prior_dynamics.fit(d_env)
                fits += 1
                t2 = clock()
                rollout(d_env, prior_dynamics, agent.actor, d_model)
                parts["model_fit"] += t2 - t
                parts["rollout"] += clock() - t2
            t = clock()
            if d_model.len > 0:  # Learner::learn_step: real_ratio 0, all from D_model
                for _ in range(UPDATES_PER_STEP):
                    agent.update(d_model.sample(BATCH_SIZE))
                    updates += 1
            parts["updates"] += clock() - t
        if step % EVAL_EVERY == 0 or step == args.steps:  # Learner::record
            t = clock()
            last_return, last_length = evaluate(eval_env, agent, args.seed)
            parts["evaluation"] += clock() - t
            print(f"step={step} eval_return={last_return:.1f} eval_length={last_length:.1f}", flush=True)

    end = clock()
    epoch = math.nan if epoch_start is None else end - epoch_start
    print(
        f"backend=torch-{torch.__version__} threads={args.threads} steps={args.steps} seed={args.seed} "
        f"fits={fits} updates={updates} d_env={d_env.len} d_model={d_model.len}"
    )
    print("cpu_s_by_part " + " ".join(f"{k}={v:.1f}" for k, v in parts.items()))
    print(
        f"process_cpu_s={end:.1f} epoch_cpu_s={epoch:.1f} peak_rss_mb={peak_rss_mb():.0f} "
        f"last_eval_return={last_return:.1f} last_eval_length={last_length:.1f}"
    )


if __name__ == "__main__":
    main()
