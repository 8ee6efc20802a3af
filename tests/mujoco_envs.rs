//! Claims about gymnasium's MuJoCo tasks in Rust (feature `mujoco`,
//! `riskmdp::continuous::env::mujoco`; run `scripts/setup-mujoco.sh` first):
//!
//! * replaying trajectories recorded from gymnasium 1.4.0 on MuJoCo 3.17.0 itself
//!   (`bench/record_gym.py --mujoco` → `tests/fixtures/gym/*_v4.json`) from the recorded
//!   state after reset gives gymnasium's observations and rewards within [`OBS_TOL`] and
//!   [`REWARD_TOL`], with every `terminated`/`truncated` flag and episode length equal; each
//!   replay prints its largest errors;
//! * a wrong-length or non-finite action is an error naming `action` that leaves the state as
//!   it was; a wrong or non-finite `reset_to` state is an error naming `qpos`/`qvel`;
//! * a missing model folder, and (at build time) a missing library, is one error line naming
//!   the setup script;
//! * seeded resets are reproducible and stay within gymnasium's reset noise; HalfCheetah, which
//!   never terminates, is truncated after exactly 1000 steps;
//! * `is_terminal` on the float32 observation agrees with `terminated` along the recordings.
#![cfg(feature = "mujoco")]

use std::path::Path;

use riskmdp::Error;
use riskmdp::continuous::env::mujoco::{self, MAX_EPISODE_STEPS};
use riskmdp::continuous::env::{Ant, Env, HalfCheetah, Hopper, Walker2d};
use serde::Deserialize;

#[allow(dead_code)] // its `main` is cargo's business; the test checks `rpath`
#[path = "../build.rs"]
mod build_script;

/// Largest absolute difference allowed between a replayed observation coordinate and
/// gymnasium's. Both sides run the same MuJoCo library on the same XML from the same state
/// with the same float64 controls, so the physics agrees bit for bit; the tolerance only
/// leaves room for a different CPU or libm under MuJoCo on another machine, where a chaotic
/// contact can grow a last-bit difference over a few dozen steps. Measured here (x86-64,
/// gymnasium 1.4.0, NumPy 2.4.6): 0 on all 4 tasks.
const OBS_TOL: f64 = 1e-9;

/// Largest absolute difference allowed between a replayed reward and gymnasium's: the
/// velocity term divides a difference of positions (≤ [`OBS_TOL`]-close) by dt = 0.008 or
/// 0.05, so up to 250·[`OBS_TOL`]. The float32 control cost is computed in NumPy's order; the
/// same cost in float64 would differ by ~1e-8 relative and still pass, which is why
/// `ctrl_cost_is_float32_in_numpys_order` checks it on its own. Measured here: 0.
const REWARD_TOL: f64 = 250.0 * OBS_TOL;

#[derive(Deserialize)]
struct Fixture {
    gymnasium: String,
    mujoco: String,
    env_id: String,
    max_episode_steps: usize,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
struct Episode {
    name: String,
    initial_qpos: Vec<f64>,
    initial_qvel: Vec<f64>,
    initial_obs: Vec<f64>,
    actions: Vec<Vec<f64>>,
    steps: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Recorded {
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

fn fixture(file: &str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gym").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

type ResetTo<E> = fn(&mut E, &[f64], &[f64]) -> riskmdp::Result<Vec<f64>>;

/// Replay every episode of `file` in `env` from its recorded state; returns the largest
/// observation and reward errors, after asserting them against the tolerances.
fn replay<E: Env>(file: &str, env: &mut E, reset_to: ResetTo<E>) -> (f64, f64) {
    let fixture = fixture(file);
    assert_eq!(fixture.env_id, env.id());
    assert_eq!(fixture.mujoco, "3.17.0");
    assert_eq!(fixture.max_episode_steps, env.max_episode_steps());
    let (mut obs_err, mut reward_err, mut steps) = (0.0f64, 0.0f64, 0);
    for episode in &fixture.episodes {
        let what = format!("{} {}", fixture.env_id, episode.name);
        let obs = reset_to(env, &episode.initial_qpos, &episode.initial_qvel).expect("recorded state");
        assert_eq!(obs.len(), env.observation_dim(), "{what}: observation length");
        obs_err = obs_err.max(max_abs_diff(&obs, &episode.initial_obs));
        for (t, (action, recorded)) in episode.actions.iter().zip(&episode.steps).enumerate() {
            let step = env.step(action).expect("recorded action");
            let (e_obs, e_reward) = (max_abs_diff(&step.obs, &recorded.obs), (step.reward - recorded.reward).abs());
            assert!(e_obs <= OBS_TOL, "{what}, step {t}: observation off by {e_obs:e} > {OBS_TOL:e}");
            assert!(e_reward <= REWARD_TOL, "{what}, step {t}: reward off by {e_reward:e} > {REWARD_TOL:e}");
            assert_eq!(step.terminated, recorded.terminated, "{what}, step {t}: terminated");
            assert_eq!(step.truncated, recorded.truncated, "{what}, step {t}: truncated");
            obs_err = obs_err.max(e_obs);
            reward_err = reward_err.max(e_reward);
        }
        let last = episode.steps.last().expect("a recorded step");
        assert!(
            last.terminated || last.truncated || episode.steps.len() == episode.actions.len(),
            "{what}: the recording stops where gymnasium's episode does"
        );
        steps += episode.steps.len();
    }
    println!(
        "{} (gymnasium {}): {} episodes, {steps} steps; max |obs − gymnasium| = {obs_err:e}, max |reward − gymnasium| = {reward_err:e}",
        fixture.env_id,
        fixture.gymnasium,
        fixture.episodes.len()
    );
    (obs_err, reward_err)
}

#[test]
fn hopper_replays_gymnasium() {
    replay("hopper_v4.json", &mut Hopper::new().expect("setup"), Hopper::reset_to);
}

#[test]
fn walker2d_replays_gymnasium() {
    replay("walker2d_v4.json", &mut Walker2d::new().expect("setup"), Walker2d::reset_to);
}

#[test]
fn half_cheetah_replays_gymnasium() {
    replay("half_cheetah_v4.json", &mut HalfCheetah::new().expect("setup"), HalfCheetah::reset_to);
}

#[test]
fn ant_replays_gymnasium() {
    replay("ant_v4.json", &mut Ant::new().expect("setup"), Ant::reset_to);
}

/// `is_terminal` (the rule model rollouts apply to float32 observations) says what gymnasium's
/// `terminated` said at every recorded step.
#[test]
fn is_terminal_agrees_with_the_recorded_flags() {
    let envs: [(&str, Box<dyn Env>); 4] = [
        ("hopper_v4.json", Box::new(Hopper::new().expect("setup"))),
        ("walker2d_v4.json", Box::new(Walker2d::new().expect("setup"))),
        ("half_cheetah_v4.json", Box::new(HalfCheetah::new().expect("setup"))),
        ("ant_v4.json", Box::new(Ant::new().expect("setup"))),
    ];
    for (file, env) in envs {
        let mut terminal_steps = 0;
        for episode in fixture(file).episodes {
            for (t, step) in episode.steps.iter().enumerate() {
                let obs: Vec<f32> = step.obs.iter().map(|&x| x as f32).collect();
                assert_eq!(env.is_terminal(&obs), step.terminated, "{file} {} step {t}", episode.name);
                terminal_steps += usize::from(step.terminated);
            }
        }
        println!("{file}: is_terminal agrees on all steps, {terminal_steps} of them terminal");
    }
}

/// gymnasium's `ctrl_cost_weight * np.sum(np.square(a))` for a float32 `a` under NumPy 2 is
/// float32 throughout, and for 8 numbers NumPy sums pairwise. The expected values, from NumPy
/// 2.4.6:
/// ```text
/// a = np.array([0.1, -0.7, 0.3], np.float32)
/// float(1e-3 * np.sum(np.square(a)))   = 0.000590000010561198
/// b = np.array([-1.09, 0.66, 0.08, -0.57, -0.04, 1.17, 1.3, -0.43], np.float32)
/// float(0.5 * np.sum(np.square(b)))    = 2.6002001762390137   (pairwise tree)
/// the same summed left to right         = 2.6001999378204346   (what a plain loop gives)
/// ```
#[test]
fn ctrl_cost_is_float32_in_numpys_order() {
    let a = [0.1f32, -0.7, 0.3];
    assert_eq!(mujoco::ctrl_cost(1e-3, &a).to_bits(), 0.000_590_000_010_561_198f64.to_bits());
    let b = [-1.09f32, 0.66, 0.08, -0.57, -0.04, 1.17, 1.3, -0.43];
    assert_eq!(mujoco::ctrl_cost(0.5, &b).to_bits(), 2.600_200_176_239_013_7f64.to_bits());
}

fn assert_names_action(result: riskmdp::Result<riskmdp::continuous::env::Step>) {
    match result {
        Err(e @ Error::InvalidParameter { .. }) => {
            let Error::InvalidParameter { name, .. } = &e else { unreachable!() };
            assert_eq!(name, "action");
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
        other => panic!("expected an error naming `action`, got {other:?}"),
    }
}

#[test]
fn bad_actions_are_errors_naming_action_and_change_nothing() {
    let mut env = Hopper::new().expect("setup");
    env.reset_seeded(0);
    let (qpos, qvel) = (env.qpos().to_vec(), env.qvel().to_vec());
    assert_names_action(env.step(&[0.1, 0.2]));
    assert_names_action(env.step(&[0.1, 0.2, 0.3, 0.4]));
    assert_names_action(env.step(&[0.1, f64::NAN, 0.3]));
    assert_names_action(env.step(&[f64::INFINITY, 0.0, 0.3]));
    assert_eq!(env.qpos(), &qpos[..]);
    assert_eq!(env.qvel(), &qvel[..]);
    let mut ant = Ant::new().expect("setup");
    assert_names_action(ant.step(&[0.0; 3]));
    // The state is untouched, so the next good step is the one from the reset state.
    assert!(env.step(&[0.1, 0.2, 0.3]).is_ok());
}

#[test]
fn bad_reset_states_are_errors_naming_the_field() {
    let mut env = Walker2d::new().expect("setup");
    assert!(matches!(env.reset_to(&[0.0; 8], &[0.0; 9]), Err(Error::Shape { field, .. }) if field == "qpos"));
    assert!(matches!(env.reset_to(&[0.0; 9], &[0.0; 10]), Err(Error::Shape { field, .. }) if field == "qvel"));
    let mut qvel = [0.0; 9];
    qvel[4] = f64::NAN;
    assert!(matches!(env.reset_to(&[0.0; 9], &qvel), Err(Error::NotFinite { field, .. }) if field == "qvel[4]"));
}

#[test]
fn a_missing_model_folder_is_one_line_naming_the_setup_script() {
    let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/no-such-mujoco-assets");
    let errors = [
        Hopper::with_assets(&missing).err(),
        Walker2d::with_assets(&missing).err(),
        HalfCheetah::with_assets(&missing).err(),
        Ant::with_assets(&missing).err(),
    ];
    for error in errors {
        let error = error.expect("an error");
        assert!(matches!(error, Error::MujocoModel { .. }), "{error:?}");
        let line = error.to_string();
        assert!(!line.contains('\n') && line.contains("scripts/setup-mujoco.sh"), "{line}");
        assert!(line.contains("no-such-mujoco-assets"), "names the path: {line}");
    }
    // An XML file MuJoCo cannot parse: its parser's message, still on one line.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/broken-mujoco-assets");
    std::fs::create_dir_all(&dir).expect("temp folder");
    std::fs::write(dir.join("hopper.xml"), "<mujoco><worldbody><body></mujoco>").expect("write");
    let line = Hopper::with_assets(&dir).expect_err("a broken model").to_string();
    assert!(!line.contains('\n') && line.contains("scripts/setup-mujoco.sh"), "{line}");
}

/// The build script's check: without `libmujoco.so` the build stops with one line naming the
/// setup script (mujoco-rs's own build script may add its message); with it, the rpath.
#[test]
fn a_missing_library_stops_the_build_with_one_line_naming_the_setup_script() {
    for dir in [None, Some(Path::new("/no/such/mujoco/lib"))] {
        let line = build_script::rpath(dir).expect_err("no library");
        assert!(!line.contains('\n') && line.contains("scripts/setup-mujoco.sh"), "{line}");
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor/mujoco/lib");
    assert_eq!(build_script::rpath(Some(&lib)), Ok(format!("-Wl,-rpath,{}", lib.display())));
}

#[test]
fn seeded_resets_are_reproducible_and_within_the_reset_noise() {
    let mut hopper = Hopper::new().expect("setup");
    let first = hopper.reset_seeded(7);
    assert_eq!(hopper.reset_seeded(7), first);
    assert_ne!(hopper.reset_seeded(8), first);
    // qpos0 of hopper.xml: (0, 1.25, 0, 0, 0, 0); noise U(±0.005) on qpos and qvel.
    let qpos0 = [0.0, 1.25, 0.0, 0.0, 0.0, 0.0];
    for seed in 0..20 {
        hopper.reset_seeded(seed);
        assert!(hopper.qpos().iter().zip(qpos0).all(|(q, q0)| (q - q0).abs() <= 0.005));
        assert!(hopper.qvel().iter().all(|v| v.abs() <= 0.005));
    }
    // HalfCheetah and Ant: velocities 0.1·N(0, 1); over 50 resets their spread is about 0.1.
    let mut ant = Ant::new().expect("setup");
    let velocities: Vec<f64> = (0..50)
        .flat_map(|seed| {
            ant.reset_seeded(seed);
            ant.qvel().to_vec()
        })
        .collect();
    let sd = (velocities.iter().map(|v| v * v).sum::<f64>() / velocities.len() as f64).sqrt();
    assert!((0.08..0.12).contains(&sd), "sd of Ant's reset velocities {sd}");
    assert!(ant.is_healthy());
}

#[test]
fn spaces_are_gymnasiums() {
    let envs: [Box<dyn Env>; 4] = [
        Box::new(Hopper::new().expect("setup")),
        Box::new(Walker2d::new().expect("setup")),
        Box::new(HalfCheetah::new().expect("setup")),
        Box::new(Ant::new().expect("setup")),
    ];
    let expected = [("Hopper-v4", 11, 3), ("Walker2d-v4", 17, 6), ("HalfCheetah-v4", 17, 6), ("Ant-v4", 27, 8)];
    for (mut env, (id, obs_dim, action_dim)) in envs.into_iter().zip(expected) {
        assert_eq!((env.id(), env.observation_dim(), env.action_dim()), (id, obs_dim, action_dim));
        assert_eq!(env.reset_seeded(0).len(), obs_dim);
        let bounds = env.action_bounds();
        assert!(bounds.low.iter().chain(&bounds.high).all(|b| (b.abs() - 1.0).abs() < f64::EPSILON), "{id}");
        assert_eq!(env.max_episode_steps(), 1000);
    }
}

#[test]
fn half_cheetah_is_truncated_after_1000_steps() {
    let mut env = HalfCheetah::new().expect("setup");
    env.reset_seeded(3);
    for t in 1..=MAX_EPISODE_STEPS {
        let step = env.step(&[0.0; 6]).expect("a step");
        assert!(!step.terminated);
        assert_eq!(step.truncated, t == MAX_EPISODE_STEPS, "step {t}");
    }
}

/// `train --env hopper` without `--preset` takes `gym-cpu`, says so, and names its terminal
/// column for what ends a Hopper episode: a fall.
#[test]
fn train_on_hopper_takes_the_gym_cpu_preset() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(["train", "--env", "hopper", "--algo", "sac", "--steps", "2100", "--seed", "1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("hopper: sac, 2100 steps, seed 1, preset gym-cpu"), "{text}");
    assert!(text.contains("fell") && !text.contains("at goal"), "{text}");
}
