#!/usr/bin/env python3
"""Environment steps per second of a gymnasium MuJoCo task: the Python half of
`examples/mujoco_steps.rs` (same loop: uniform random float32 actions in the action box, a
reset whenever the episode terminates or is truncated; only the loop is timed, in wall and in
process CPU seconds).

    /tmp/mjvenv/bin/python bench/mujoco_steps.py Hopper-v4 20000
"""
import sys
import time

import gymnasium as gym
import numpy as np


def main():
    env_id = sys.argv[1] if len(sys.argv) > 1 else "Hopper-v4"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    low, high = env.action_space.low, env.action_space.high
    env.reset(seed=0)
    episodes = 1
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        action = rng.uniform(low, high).astype(np.float32)
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
            episodes += 1
    rate = steps / (time.perf_counter() - start)
    cpu_rate = steps / (time.process_time() - cpu_start)
    print(f"{env_id}: {steps} steps, {episodes} episodes, steps_per_s {rate:.0f}, steps_per_cpu_s {cpu_rate:.0f}")


if __name__ == "__main__":
    main()
