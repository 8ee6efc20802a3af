#!/usr/bin/env python3
"""Record trajectories of gymnasium's MountainCarContinuous-v0 and Pendulum-v1 as test fixtures.

`tests/continuous_envs.rs` replays the recorded actions in riskmdp's Rust environments
(`riskmdp::continuous::env`) and compares every observation, reward and flag.

Each episode starts from a fixed state written into `env.unwrapped.state` after `reset`, so
gymnasium's RNG does not matter; one episode per environment instead keeps the state drawn by
`reset(seed=…)`, to check the reset path's dtype. Actions are float32 (the dtype of both action
spaces): random ones, some outside the bounds to exercise clipping, and a bang-bang policy on
the sign of the velocity that drives the car to the goal and spins the pendulum up to its speed
limit. The actions actually sent are recorded, so the replay needs no policy.

Run (writes tests/fixtures/gym/*.json; about a second):

    python3 -m venv /tmp/gymvenv
    /tmp/gymvenv/bin/pip install gymnasium numpy
    /tmp/gymvenv/bin/python bench/record_gym.py

Numbers are written with Python's shortest round-trip repr, so every float32 and float64 value
reads back bit for bit.

With `--mujoco` it records, instead, gymnasium's MuJoCo tasks Hopper-v4, Walker2d-v4,
HalfCheetah-v4 and Ant-v4 (feature `mujoco`, `tests/mujoco_envs.rs`): per task a few short
episodes from the state gymnasium's own `reset(seed=…)` drew — the qpos/qvel after reset are
recorded, since NumPy's reset noise cannot be repeated in Rust — with float32 random actions,
some beyond the control range (MuJoCo clamps them; the control cost is charged on them as
given). It needs MuJoCo 3.17.0, the version the Rust side links (about 5 seconds):

    python3 -m venv /tmp/mjvenv
    /tmp/mjvenv/bin/pip install "gymnasium[mujoco]==1.4.0" mujoco==3.17.0
    /tmp/mjvenv/bin/python bench/record_gym.py --mujoco
"""
import json
import math
import pathlib
import sys

import gymnasium as gym
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "gym"


def f32(x):
    return np.float32(x)


def run_episode(env, name, state, policy, state_dtype, seed=None):
    """One episode until terminated or truncated; `state=None` keeps reset's own draw."""
    obs, _ = env.reset(seed=seed)
    if state is not None:
        env.unwrapped.state = np.array(state, dtype=state_dtype)
        obs = env.unwrapped._get_obs() if hasattr(env.unwrapped, "_get_obs") else env.unwrapped.state
    initial_state = [float(x) for x in env.unwrapped.state]
    episode = {
        "name": name,
        "initial_state": initial_state,
        "initial_state_dtype": str(np.asarray(env.unwrapped.state).dtype),
        "initial_obs": [float(x) for x in np.asarray(obs, dtype=np.float32)],
        "actions": [],
        "steps": [],
    }
    t = 0
    while True:
        action = np.array([policy(t, obs)], dtype=np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode["actions"].append(float(action[0]))
        episode["steps"].append(
            {
                "obs": [float(x) for x in np.asarray(obs, dtype=np.float32)],
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        t += 1
        if terminated or truncated:
            return episode


def random_policy(seed, bound):
    rng = np.random.default_rng(seed)
    return lambda t, obs: f32(rng.uniform(-bound, bound))


def constant(a):
    return lambda t, obs: f32(a)


def mountain_car():
    env = gym.make("MountainCarContinuous-v0")
    st = np.float32
    pump = lambda t, obs: f32(1.0 if obs[1] >= 0 else -1.0)
    episodes = [
        # 999 random steps, |a| up to 1.5: clipping of the force, truncation at the time limit.
        run_episode(env, "random_actions_to_time_limit", [-0.5, 0.0], random_policy(1, 1.5), st),
        # Bang-bang on the velocity's sign, with actions of 1.3 (clipped force, cost on 1.3):
        # the car swings up and terminates at the goal with the +100 reward.
        run_episode(env, "pump_to_goal", [-0.5, 0.0], lambda t, o: f32(1.3 if o[1] >= 0 else -1.3), st),
        # Same at |a| = 1 exactly (the float32 path of the force, not the clipped one).
        run_episode(env, "pump_to_goal_unit_actions", [-0.45, 0.0], pump, st),
        # Full left thrust near the left wall: position clipped at -1.2, velocity reset to 0.
        run_episode(env, "left_wall", [-1.15, -0.06], lambda t, o: f32(-1.0) if t < 40 else pump(t, o), st),
        # Velocity at the speed limit: clipped to 0.07.
        run_episode(env, "speed_limit", [-0.55, 0.0695], pump, st),
        # At rest on float32(0.45) with the one float32 action whose force cancels the slope
        # exactly: the car stays on float32(0.45) < 0.45, and terminates, because NumPy compares
        # a float32 with the Python float 0.45 in float32.
        run_episode(env, "goal_at_float32_boundary", [0.45, 0.0], constant(0.3650113046169281), st),
        # The state drawn by gymnasium's own reset stays float64 until the first step.
        run_episode(env, "gymnasium_reset_seed_7", None, pump, None, seed=7),
    ]
    return {"env_id": "MountainCarContinuous-v0", "max_episode_steps": env.spec.max_episode_steps, "episodes": episodes}


def pendulum():
    env = gym.make("Pendulum-v1")
    st = np.float64
    pump = lambda t, obs: f32(2.0 if obs[2] >= 0 else -2.0)
    episodes = [
        # 200 random torques, |u| up to 3: clipping of the torque, truncation at the time limit.
        run_episode(env, "random_torques_to_time_limit", [2.5, -0.7], random_policy(2, 3.0), st),
        # Bang-bang from hanging down (θ = π): swings up, spins over the top (θ leaves (-π, π],
        # angle_normalize in the cost), reaches the speed limit 8.
        run_episode(env, "pump_to_spin", [math.pi - 0.1, 0.0], pump, st),
        # Constant torque beyond the bound (clipped to 2).
        run_episode(env, "constant_clipped_torque", [0.3, 7.5], constant(5.0), st),
        run_episode(env, "gymnasium_reset_seed_7", None, pump, None, seed=7),
    ]
    return {"env_id": "Pendulum-v1", "max_episode_steps": env.spec.max_episode_steps, "episodes": episodes}


# MuJoCo tasks: (gymnasium id, fixture file, [(episode name, reset seed, action bound, steps)]).
# Episodes end early where gymnasium terminates them (Hopper, Walker2d and Ant fall under random
# actions); the step counts keep every file well under 200 KB.
MUJOCO_TASKS = [
    ("Hopper-v4", "hopper_v4.json", [("random_actions", 1, 1.0, 150), ("actions_beyond_ctrlrange", 2, 1.6, 150),
                                     ("small_actions", 3, 0.3, 150)]),
    ("Walker2d-v4", "walker2d_v4.json", [("random_actions", 1, 1.0, 120), ("actions_beyond_ctrlrange", 2, 1.6, 120),
                                         ("small_actions", 3, 0.3, 120)]),
    ("HalfCheetah-v4", "half_cheetah_v4.json", [("random_actions", 1, 1.0, 100),
                                                ("actions_beyond_ctrlrange", 2, 1.6, 100)]),
    ("Ant-v4", "ant_v4.json", [("random_actions", 1, 1.0, 80), ("actions_beyond_ctrlrange", 2, 1.6, 80)]),
]


def mujoco_episode(env, name, seed, bound, steps):
    """Reset with `seed`, then `steps` float32 actions U(-bound, bound), or fewer if terminated."""
    obs, _ = env.reset(seed=seed)
    data = env.unwrapped.data
    episode = {
        "name": name,
        "seed": seed,
        "initial_qpos": [float(x) for x in data.qpos],
        "initial_qvel": [float(x) for x in data.qvel],
        "initial_obs": [float(x) for x in obs],
        "actions": [],
        "steps": [],
    }
    rng = np.random.default_rng(100 + seed)
    for _ in range(steps):
        action = rng.uniform(-bound, bound, size=env.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode["actions"].append([float(a) for a in action])
        episode["steps"].append(
            {"obs": [float(x) for x in obs], "reward": float(reward), "terminated": bool(terminated),
             "truncated": bool(truncated)}
        )
        if terminated or truncated:
            break
    return episode


def mujoco_tasks():
    import mujoco

    for env_id, file, episodes in MUJOCO_TASKS:
        env = gym.make(env_id)
        record = {
            "mujoco": mujoco.__version__,
            "env_id": env_id,
            "max_episode_steps": env.spec.max_episode_steps,
            "episodes": [mujoco_episode(env, *episode) for episode in episodes],
        }
        yield file, record


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "recorded_by": "bench/record_gym.py",
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    if "--mujoco" in sys.argv[1:]:
        records = mujoco_tasks()
    else:
        records = [("mountain_car_continuous_v0.json", mountain_car()), ("pendulum_v1.json", pendulum())]
    for file, record in records:
        record = {**meta, **record}
        (OUT / file).write_text(json.dumps(record, separators=(",", ":")) + "\n")
        lengths = [len(e["steps"]) for e in record["episodes"]]
        size = (OUT / file).stat().st_size
        print(f"{file}: episodes of {lengths} steps, {size / 1000:.0f} kB")


if __name__ == "__main__":
    main()
