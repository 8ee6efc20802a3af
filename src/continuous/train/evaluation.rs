//! The deterministic actor in the real environment (evaluations) and its mean paths in the real
//! and the learnt dynamics (Fig. 4).

use super::*;

/// Which learnt dynamics a model path follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamics {
    /// The prior p_θ.
    Prior,
    /// The variational q_φ.
    Variational,
}

fn mean_rows(sum: Vec<Vec<f64>>, n: usize) -> Vec<Vec<f64>> {
    let n = n.max(1) as f64;
    sum.into_iter().map(|row| row.into_iter().map(|s| s / n).collect()).collect()
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The environment of the checkpoint.
    pub env: EnvKind,
    /// Its learner.
    pub algo: Algo,
    /// Steps it was trained for.
    pub step: usize,
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Whether each episode ended in a terminal state (Mountain Car: the goal).
    pub terminated: Vec<bool>,
    /// Mean return.
    pub mean_return: f64,
}

/// Roll out a checkpoint's deterministic actor for `episodes` episodes in the real
/// environment, episode j started from `reset_seeded(seed + j)`.
///
/// # Errors
/// Those of [`Learner::load`].
pub fn evaluate(checkpoint: &Path, episodes: usize, seed: u64) -> Result<Evaluation> {
    let learner = Learner::load(checkpoint)?;
    let mut env = learner.env_kind.make()?;
    let (mut returns, mut terminated) = (Vec::new(), Vec::new());
    for j in 0..episodes {
        let mut obs = to_f32(&env.reset_seeded(seed.wrapping_add(j as u64)));
        let (mut total, mut ended) = (0.0, false);
        // The environment truncates at its time limit; the bound makes sure of it.
        for _ in 0..env.max_episode_steps() {
            let out = env.step(&to_env_action(env.as_ref(), &learner.agent.act_deterministic(&obs)?))?;
            total += out.reward;
            obs = to_f32(&out.obs);
            if out.terminated || out.truncated {
                ended = out.terminated;
                break;
            }
        }
        terminated.push(ended);
        returns.push(total);
    }
    let mean_return = returns.iter().sum::<f64>() / episodes.max(1) as f64;
    Ok(Evaluation { env: learner.env_kind, algo: learner.algo, step: learner.step, returns, terminated, mean_return })
}

impl Learner {
    /// `episodes` episodes of the deterministic actor `tanh μ_ω` in the real environment, from
    /// the evaluation seeds of this run: (mean return, episodes that terminated, mean length).
    ///
    /// # Errors
    /// A candle error.
    pub fn evaluate(&self, episodes: usize) -> Result<(f64, usize, f64)> {
        let mut env = self.env_kind.make()?;
        let (mut total, mut terminated, mut length) = (0.0, 0, 0usize);
        for j in 0..episodes {
            let mut obs = to_f32(&env.reset_seeded(eval_seed(self.seed, j)));
            // The environment truncates at its time limit; the bound makes sure of it.
            for _ in 0..env.max_episode_steps() {
                let action = self.agent.act_deterministic(&obs)?;
                let out = env.step(&to_env_action(env.as_ref(), &action))?;
                total += out.reward;
                length += 1;
                obs = to_f32(&out.obs);
                if out.terminated || out.truncated {
                    terminated += usize::from(out.terminated);
                    break;
                }
            }
        }
        let n = episodes.max(1) as f64;
        Ok((total / n, terminated, length as f64 / n))
    }

    /// Mean observation per time step of `episodes` episodes of the deterministic actor in the
    /// real environment, started from `ChaCha8Rng::seed_from_u64(seed)`: entry t is the mean of
    /// s_t (t = 0 … max_episode_steps). An episode that ended keeps its last observation.
    /// Mountain Car's mean position is entry `[t][0]` (Fig. 4).
    ///
    /// # Errors
    /// A candle error.
    pub fn mean_path_real(&self, episodes: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
        let mut env = self.env_kind.make()?;
        let horizon = env.max_episode_steps();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sum = vec![vec![0.0; self.obs_dim]; horizon + 1];
        for _ in 0..episodes {
            let mut obs = env.reset(&mut rng);
            let mut ended = false;
            for row in sum.iter_mut() {
                row.iter_mut().zip(&obs).for_each(|(s, x)| *s += x);
                if !ended {
                    let out = env.step(&to_env_action(env.as_ref(), &self.agent.act_deterministic(&to_f32(&obs))?))?;
                    ended = out.terminated;
                    obs = out.obs;
                }
            }
        }
        Ok(mean_rows(sum, episodes))
    }

    /// The same in a learnt model: the deterministic actor, next states drawn from `dynamics`
    /// (a random elite per step, as in rollouts), starts from the real environment's initial
    /// distribution, `horizon` steps; a path that reaches the task's terminal set stays there.
    ///
    /// # Errors
    /// A candle error.
    pub fn mean_path_model(
        &self,
        dynamics: Dynamics,
        episodes: usize,
        horizon: usize,
        seed: u64,
    ) -> Result<Vec<Vec<f64>>> {
        let model = match dynamics {
            Dynamics::Prior => &self.prior_dynamics,
            Dynamics::Variational => &self.variational_dynamics,
        };
        let mut env = self.env_kind.make()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let o = self.obs_dim;
        let mut obs: Vec<f32> = (0..episodes).flat_map(|_| to_f32(&env.reset(&mut rng))).collect();
        let mut ended = vec![false; episodes];
        let mut sum = vec![vec![0.0; o]; horizon + 1];
        for (t, total) in sum.iter_mut().enumerate() {
            for row in obs.chunks(o) {
                total.iter_mut().zip(row).for_each(|(s, &x)| *s += f64::from(x));
            }
            if t == horizon || episodes == 0 {
                break;
            }
            let s = Tensor::from_vec(obs.clone(), (episodes, o), &Device::Cpu)?;
            let action = self.agent.act_batch_deterministic(&s)?;
            let (next, _) = model.sample(&s, &action, &mut rng)?;
            let next: Vec<f32> = next.flatten_all()?.to_vec1()?;
            for (i, done) in ended.iter_mut().enumerate() {
                if !*done {
                    obs[i * o..(i + 1) * o].copy_from_slice(&next[i * o..(i + 1) * o]);
                    *done = env.is_terminal(&obs[i * o..(i + 1) * o]);
                }
            }
        }
        Ok(mean_rows(sum, episodes))
    }
}
