//! Claims about the continuous environments (`riskmdp::continuous::env`):
//!
//! * one step of each matches the equations computed by hand;
//! * the boundaries behave as in gymnasium: the action and torque clips, the speed limits,
//!   the left wall's velocity reset, the goal test (including its float32 comparison) and the
//!   angle wrap of the pendulum's cost;
//! * episodes are truncated after gymnasium's time limits (999 and 200 steps);
//! * seeded resets are reproducible and draw from gymnasium's initial-state ranges;
//! * replaying the actions of trajectories recorded from gymnasium 1.4.0 itself
//!   (`bench/record_gym.py` → `tests/fixtures/gym/`) gives gymnasium's observations, rewards
//!   and flags at float32 precision, with every flag and episode length equal.
//!
//! Expected numbers of the hand-computed steps come from the formula evaluated in plain f64
//! (Python's `math`, shown above each test); the environments compute in gymnasium's float32,
//! so those comparisons allow [`HAND_F32`].

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::continuous::env::pendulum::{self, angle_normalize};
use riskmdp::continuous::env::{Env, MountainCar, Pendulum, Step, mountain_car};
use serde::Deserialize;
use std::f64::consts::PI;

/// Relative tolerance of a hand-computed step (f64 formula) against the environment (float32
/// arithmetic): a float32 step rounds each of a handful of operations to 2⁻²⁴ relative, and the
/// velocity update cancels about two thirds of its terms, so a few ulps of float32; 4·ε₃₂ ≈
/// 4.8e-7 holds that while any wrong constant or term (≥ 1e-4 relative here) fails.
const HAND_F32: f64 = 4.0 * f32::EPSILON as f64;

/// Largest distance, in float32 ulps, between a replayed value and gymnasium's recording.
/// gymnasium's observations are float32 and our steps mirror its float32/float64 operations,
/// so only the last bit of a libm `sin`/`cos` (NumPy's own float64 kernels vs the system
/// libm) can separate them, and float32 rounding absorbs nearly all of that; 4 ulps leaves room
/// for such a flip to travel a few steps. Measured with gymnasium 1.4.0 / NumPy 2.4.6 on x86-64
/// Linux: 2841 of 2844 car observations and all 2412 pendulum observations bit-identical; the
/// 3 others are 1–2 ulps, in the first steps of the episode that starts from gymnasium's
/// float64 reset draw, which [`MountainCar::reset_to`] rounds to float32. Planted dtype bugs
/// exceed it: a car stepped in float64 leaves the recorded trajectory, a clipped force summed
/// in float32 is 65 664 ulps off, float64 torque terms move the pendulum by 202 ulps.
const FIXTURE_ULPS: u64 = 4;

fn assert_close(found: f64, expected: f64, what: &str) {
    assert!(
        (found - expected).abs() <= HAND_F32 * expected.abs(),
        "{what}: found {found}, expected {expected} (relative tolerance {HAND_F32:e})"
    );
}

fn assert_bits(found: f64, expected: f64, what: &str) {
    assert_eq!(found.to_bits(), expected.to_bits(), "{what}: found {found}, expected {expected}");
}

fn car_at(position: f64, velocity: f64) -> MountainCar {
    let mut env = MountainCar::new();
    env.reset_to(position, velocity);
    env
}

fn pendulum_at(theta: f64, theta_dot: f64) -> Pendulum {
    let mut env = Pendulum::new();
    env.reset_to(theta, theta_dot);
    env
}

// ---------------------------------------------------------------- hand-computed steps

/// ```text
/// x = −0.5, v = 0, a = 0.5
/// 0.0025·cos(3·(−0.5)) = 0.0025·0.0707372016677029 = 0.00017684300416925727
/// v' = 0 + 0.5·0.0015 − 0.00017684300416925727    = 0.0005731569958307427
/// x' = −0.5 + v'                                  = −0.49942684300416923
/// r  = −0.1·0.5²                                  = −0.025
/// ```
#[test]
fn mountain_car_step_matches_the_equations_by_hand() {
    let step = car_at(-0.5, 0.0).step(&[0.5]).expect("one action");
    assert_close(step.obs[0], -0.499_426_843_004_169_23, "x'");
    assert_close(step.obs[1], 0.000_573_156_995_830_742_7, "v'");
    // The reward is float64 arithmetic on the float32 action 0.5 (exact): bit for bit.
    assert_bits(step.reward, -0.025, "r");
    assert!(!step.terminated && !step.truncated);
}

/// ```text
/// θ = 1, θ̇ = 0.5, u = 1
/// cost = 1² + 0.1·0.5² + 0.001·1² = 1.026                       (r = −1.026)
/// θ̈   = 15·sin 1 + 3·1 = 15·0.8414709848078965 + 3 = 15.622064772118447
/// θ̇'  = 0.5 + 0.05·θ̈ = 1.2811032386059225
/// θ'  = 1 + 0.05·θ̇'  = 1.064055161930296
/// obs = [cos θ', sin θ', θ̇'] = [0.48533052923081726, 0.8743307597222775, 1.2811032386059225]
/// ```
#[test]
fn pendulum_step_matches_the_equations_by_hand() {
    let mut env = pendulum_at(1.0, 0.5);
    let step = env.step(&[1.0]).expect("one action");
    assert_close(step.reward, -1.026, "r");
    assert_close(env.state()[0], 1.064_055_161_930_296, "θ'");
    assert_close(step.obs[0], 0.485_330_529_230_817_26, "cos θ'");
    assert_close(step.obs[1], 0.874_330_759_722_277_5, "sin θ'");
    assert_close(step.obs[2], 1.281_103_238_605_922_5, "θ̇'");
    assert!(!step.terminated && !step.truncated);
}

// ---------------------------------------------------------------- Mountain Car boundaries

/// ```text
/// x = −1.19, v = −0.02, a = −1
/// 0.0025·cos(−3.57) = −0.002274071318394861
/// v' = −0.02 − 0.0015 + 0.002274071318394861 = −0.01922592868160514
/// x' = −1.19 + v' = −1.2092… < −1.2  → x' = −1.2 and, since v' < 0, v' = 0
/// ```
#[test]
fn mountain_car_left_wall_stops_the_car() {
    let step = car_at(-1.19, -0.02).step(&[-1.0]).expect("one action");
    assert_bits(step.obs[0], f64::from(mountain_car::MIN_POSITION as f32), "x' at the wall");
    assert_bits(step.obs[1], 0.0, "v' reset at the wall");
    // Moving right at the wall keeps the velocity.
    let step = car_at(mountain_car::MIN_POSITION, 0.0).step(&[1.0]).expect("one action");
    assert!(step.obs[1] > 0.0 && step.obs[0] > mountain_car::MIN_POSITION);
}

/// ```text
/// x = −0.55, v = 0.0695, a = 1
/// v' = 0.0695 + 0.0015 − 0.0025·cos(−1.65) = 0.0695 + 0.0015 + 0.00019780222201683522
///    = 0.07119780222201684 > 0.07  → v' = 0.07
/// x' = −0.55 + 0.07 = −0.48
/// ```
#[test]
fn mountain_car_velocity_is_clipped_to_the_speed_limit() {
    let step = car_at(-0.55, 0.0695).step(&[1.0]).expect("one action");
    assert_bits(step.obs[1], f64::from(mountain_car::MAX_SPEED as f32), "v' at the speed limit");
    assert_close(step.obs[0], -0.48, "x'");
}

/// The force is clipped to ±1, the action cost is not: a = 5 moves the car as a = 1 does and
/// costs 0.1·25 = 2.5 instead of 0.1.
#[test]
fn mountain_car_clips_the_force_but_charges_the_raw_action() {
    for (big, unit) in [(5.0, 1.0), (-5.0, -1.0)] {
        let clipped = car_at(-0.5, 0.01).step(&[big]).expect("one action");
        let at_bound = car_at(-0.5, 0.01).step(&[unit]).expect("one action");
        // Equal at float32 precision: a clipped force is summed in float64 and rounded once.
        assert_close(clipped.obs[0], at_bound.obs[0], "x'");
        assert_close(clipped.obs[1], at_bound.obs[1], "v'");
        assert_close(clipped.reward, -2.5, "r of |a| = 5");
        assert_close(at_bound.reward, -0.1, "r of |a| = 1");
    }
}

/// ```text
/// x = 0.44, v = 0.02, a = 0.5
/// v' = 0.02 + 0.00075 − 0.0025·cos(1.32) = 0.02 + 0.00075 − 0.0006204386291309322
///    = 0.02012956137086907 ≥ 0
/// x' = 0.4601295613708691 ≥ 0.45   → terminated,  r = 100 − 0.1·0.25 = 99.975
/// x = 0.5, v = −0.01, a = 0:  v' = −0.010176843004169257 < 0, x' = 0.48982315699583073
///                                  → past the flag but moving left: not terminated, r = 0
/// x = 0.59, v = 0.05, a = 0:  x' = 0.6404947220365227 → 0.6, terminated, r = 100
/// ```
#[test]
fn mountain_car_terminates_at_the_goal_moving_right() {
    let step = car_at(0.44, 0.02).step(&[0.5]).expect("one action");
    assert_close(step.obs[0], 0.460_129_561_370_869_1, "x'");
    assert!(step.terminated);
    assert_close(step.reward, 99.975, "r at the goal");

    let step = car_at(0.5, -0.01).step(&[0.0]).expect("one action");
    assert_close(step.obs[1], -0.010_176_843_004_169_257, "v'");
    assert!(step.obs[0] >= mountain_car::GOAL_POSITION && !step.terminated);
    assert_bits(step.reward, 0.0, "r without the goal and without action");

    let step = car_at(0.59, 0.05).step(&[0.0]).expect("one action");
    assert_bits(step.obs[0], f64::from(mountain_car::MAX_POSITION as f32), "x' at the right end");
    assert!(step.terminated);
    assert_bits(step.reward, mountain_car::GOAL_REWARD, "r at the goal without action");
}

/// At rest on float32(0.45) = 0.449999988… < 0.45, the float32 action 0.3650113046169281
/// cancels the slope exactly (float32(a·float32(0.0015)) = float32(0.0025·cos(3·0.45))), so the
/// car stays there; gymnasium compares float32 with float32 and terminates (recorded:
/// `goal_at_float32_boundary` in the fixture). A float64 goal test would not.
#[test]
fn mountain_car_goal_test_is_made_in_float32() {
    let step = car_at(0.45, 0.0).step(&[0.365_011_304_616_928_1]).expect("one action");
    assert_bits(step.obs[0], f64::from(0.45f32), "x' stays on float32(0.45)");
    assert_bits(step.obs[1], 0.0, "v' = 0");
    assert!(step.obs[0] < mountain_car::GOAL_POSITION);
    assert!(step.terminated, "float32(0.45) ≥ float32(0.45)");
}

// ---------------------------------------------------------------- Pendulum boundaries

/// ```text
/// θ = π/2, θ̇ = 7.9, u = 2
/// θ̈ = 15·sin(π/2) + 3·2 = 21;  θ̇' = 7.9 + 0.05·21 = 8.95 > 8  → θ̇' = 8
/// θ' = π/2 + 0.05·8 = 1.9707963267948965
/// ```
#[test]
fn pendulum_speed_is_clipped_to_the_limit() {
    let mut env = pendulum_at(PI / 2.0, 7.9);
    let step = env.step(&[2.0]).expect("one action");
    assert_bits(step.obs[2], pendulum::MAX_SPEED, "θ̇' at the limit");
    assert_close(env.state()[0], 1.970_796_326_794_896_5, "θ'");
}

/// A torque beyond ±2 acts, and costs, as ±2: cost = θ² + 0.1·θ̇² + 0.001·2² with θ = 0.3,
/// θ̇ = −1: 0.09 + 0.1 + 0.004 = 0.194.
#[test]
fn pendulum_clips_the_torque_in_dynamics_and_cost() {
    for (big, bound) in [(5.0, 2.0), (-5.0, -2.0)] {
        let clipped = pendulum_at(0.3, -1.0).step(&[big]).expect("one action");
        let at_bound = pendulum_at(0.3, -1.0).step(&[bound]).expect("one action");
        assert_eq!(clipped, at_bound);
        assert_close(clipped.reward, -0.194, "r");
    }
}

/// The cost sees the angle from upright wrapped to [−π, π): a full turn changes nothing, and
/// hanging down (θ = ±π) costs π² + 0.1·θ̇² + 0.001·u².
#[test]
fn pendulum_cost_wraps_the_angle() {
    assert_bits(angle_normalize(PI), -PI, "norm(π)");
    assert_bits(angle_normalize(-PI), -PI, "norm(−π)");
    assert_close(angle_normalize(3.0 * PI / 2.0), -PI / 2.0, "norm(3π/2)");
    assert_close(angle_normalize(-3.0 * PI / 2.0), PI / 2.0, "norm(−3π/2)");
    assert_close(angle_normalize(0.5 + 4.0 * PI), 0.5, "norm(0.5 + 4π)");

    let near = pendulum_at(0.5, 0.0).step(&[0.0]).expect("one action").reward;
    let turned = pendulum_at(0.5 + 2.0 * PI, 0.0).step(&[0.0]).expect("one action").reward;
    let back = pendulum_at(0.5 - 2.0 * PI, 0.0).step(&[0.0]).expect("one action").reward;
    assert_close(near, -0.25, "r at θ = 0.5");
    assert_close(turned, -0.25, "r at θ = 0.5 + 2π");
    assert_close(back, -0.25, "r at θ = 0.5 − 2π");
    assert_close(pendulum_at(PI, 0.0).step(&[0.0]).expect("one action").reward, -PI * PI, "r hanging down");
}

// ---------------------------------------------------------------- time limits

fn steps_until_truncated(env: &mut dyn Env, action: f64) -> usize {
    (1..=env.max_episode_steps() + 1)
        .find(|_| {
            let step: Step = env.step(&[action]).expect("one action");
            assert!(!step.terminated);
            step.truncated
        })
        .unwrap_or(usize::MAX)
}

/// Without thrust the car never leaves the valley: truncated at exactly step 999; the pendulum
/// never terminates: truncated at exactly step 200. A reset restarts the count.
#[test]
fn episodes_are_truncated_at_gymnasiums_time_limits() {
    let mut car = car_at(-0.5, 0.0);
    assert_eq!(steps_until_truncated(&mut car, 0.0), 999);
    assert!(car.step(&[0.0]).expect("one action").truncated, "stays truncated until a reset");
    car.reset_to(-0.5, 0.0);
    assert_eq!(steps_until_truncated(&mut car, 0.0), mountain_car::MAX_EPISODE_STEPS);

    let mut pole = pendulum_at(1.0, 0.0);
    assert_eq!(steps_until_truncated(&mut pole, 1.0), 200);
    pole.reset_seeded(3);
    assert_eq!(steps_until_truncated(&mut pole, 1.0), pendulum::MAX_EPISODE_STEPS);
}

// ---------------------------------------------------------------- resets and the trait

#[test]
fn seeded_resets_are_reproducible() {
    for env in [&mut MountainCar::new() as &mut dyn Env, &mut Pendulum::new()] {
        let first = env.reset_seeded(42);
        env.step(&[0.3]).expect("one action");
        assert_eq!(env.reset_seeded(42), first, "{}", env.id());
        assert_ne!(env.reset_seeded(43), first, "{}", env.id());
        // A stream of resets from one generator gives different starts.
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        assert_eq!(env.reset(&mut rng), first);
        assert_ne!(env.reset(&mut rng), first);
    }
}

/// Value stability: the starts drawn for seed 0 (ChaCha8, then `rand`'s `Uniform`) are
/// pinned, so a change of generator or formula shows up here.
#[test]
fn seed_0_starts_are_pinned() {
    let mut car = MountainCar::new();
    car.reset_seeded(0);
    assert_bits(car.state()[0], -0.458_184_927_701_950_1, "x₀");
    assert_bits(car.state()[1], 0.0, "v₀");
    let mut pole = Pendulum::new();
    pole.reset_seeded(0);
    assert_bits(pole.state()[0], 1.313_659_578_300_640_6, "θ₀");
    assert_bits(pole.state()[1], -0.068_156_555_420_779_7, "θ̇₀");
}

/// x ~ U(−0.6, −0.4) at rest; θ ~ U(−π, π), θ̇ ~ U(−1, 1): every draw inside, and 2000 draws
/// reach within 1 % of each end (a narrower or shifted range fails).
#[test]
fn resets_draw_from_gymnasiums_initial_ranges() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut car = MountainCar::new();
    let starts: Vec<[f64; 2]> = (0..2000)
        .map(|_| {
            car.reset(&mut rng);
            car.state()
        })
        .collect();
    let xs = || starts.iter().map(|s| s[0]);
    assert!(starts.iter().all(|s| s[1].to_bits() == 0), "starts at rest");
    assert!(xs().all(|x| (f64::from(-0.6f32)..=f64::from(-0.4f32)).contains(&x)));
    assert!(xs().fold(f64::INFINITY, f64::min) < -0.598 && xs().fold(f64::NEG_INFINITY, f64::max) > -0.402);

    let mut pole = Pendulum::new();
    let starts: Vec<[f64; 2]> = (0..2000)
        .map(|_| {
            pole.reset(&mut rng);
            pole.state()
        })
        .collect();
    for (i, half_width) in [(0, PI), (1, 1.0)] {
        let v = || starts.iter().map(|s| s[i]);
        assert!(v().all(|x| (-half_width..half_width).contains(&x)));
        assert!(v().fold(f64::INFINITY, f64::min) < -0.99 * half_width);
        assert!(v().fold(f64::NEG_INFINITY, f64::max) > 0.99 * half_width);
    }
}

#[test]
fn spaces_and_limits_are_gymnasiums() {
    let envs: [Box<dyn Env>; 2] = [Box::new(MountainCar::new()), Box::new(Pendulum::new())];
    let summary: Vec<_> = envs
        .iter()
        .map(|e| {
            (
                e.id(),
                e.observation_dim(),
                e.action_dim(),
                e.action_bounds().low,
                e.action_bounds().high,
                e.max_episode_steps(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("MountainCarContinuous-v0", 2, 1, vec![-1.0], vec![1.0], 999),
            ("Pendulum-v1", 3, 1, vec![-2.0], vec![2.0], 200),
        ]
    );
}

#[test]
fn an_action_of_the_wrong_length_or_not_finite_is_an_error_and_changes_nothing() {
    let mut envs: [Box<dyn Env>; 2] = [Box::new(MountainCar::new()), Box::new(Pendulum::new())];
    for env in &mut envs {
        env.reset_seeded(4);
        for action in [&[][..], &[0.0, 0.0][..]] {
            let message = env.step(action).expect_err("refused").to_string();
            assert!(message.contains("action") && message.contains("takes 1 action coordinate"), "{message}");
        }
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let message = env.step(&[x]).expect_err("refused").to_string();
            assert!(message.starts_with("action: ") && message.contains("takes a finite action"), "{message}");
        }
        // The refused steps left the episode where it was: the same as a fresh one.
        let mut fresh: Box<dyn Env> =
            if env.id().starts_with("Mountain") { Box::new(MountainCar::new()) } else { Box::new(Pendulum::new()) };
        fresh.reset_seeded(4);
        assert_eq!(env.step(&[0.3]).expect("one action"), fresh.step(&[0.3]).expect("one action"));
    }
}

// ---------------------------------------------------------------- gymnasium's own trajectories

#[derive(Deserialize)]
struct Fixture {
    gymnasium: String,
    env_id: String,
    max_episode_steps: usize,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
struct Episode {
    name: String,
    initial_state: [f64; 2],
    initial_state_dtype: String,
    initial_obs: Vec<f64>,
    actions: Vec<f64>,
    steps: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Recorded {
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

fn fixture(json: &str) -> Fixture {
    serde_json::from_str(json).expect("the committed fixture parses")
}

/// Distance in float32 ulps between two numbers rounded to float32 (+0 and −0 coincide).
fn f32_ulps(a: f64, b: f64) -> u64 {
    let ordered = |x: f64| {
        let bits = i64::from((x as f32).to_bits());
        if bits & 0x8000_0000 != 0 { -(bits & 0x7fff_ffff) } else { bits }
    };
    ordered(a).abs_diff(ordered(b))
}

/// How a replay compares with the recording.
#[derive(Debug, Default)]
struct Agreement {
    values: usize,
    bit_identical: usize,
    max_obs_ulps: u64,
    max_reward_ulps: u64,
    reward_bit_identical: usize,
    steps: usize,
}

/// Replays `episode`'s actions in `env`, already reset to its initial state, checking flags
/// and length exactly and measuring the distance of observations and rewards.
fn replay(env: &mut dyn Env, episode: &Episode, initial_obs: &[f64], agreement: &mut Agreement) {
    let name = &episode.name;
    let compare = |ours: &[f64], theirs: &[f64], agreement: &mut Agreement| {
        assert_eq!(ours.len(), theirs.len(), "{name}: observation length");
        for (a, b) in ours.iter().zip(theirs) {
            agreement.values += 1;
            agreement.bit_identical += usize::from(a.to_bits() == b.to_bits());
            agreement.max_obs_ulps = agreement.max_obs_ulps.max(f32_ulps(*a, *b));
        }
    };
    compare(initial_obs, &episode.initial_obs, agreement);
    assert_eq!(episode.actions.len(), episode.steps.len(), "{name}: one action per step");
    for (t, (action, recorded)) in episode.actions.iter().zip(&episode.steps).enumerate() {
        let step = env.step(&[*action]).expect("one action");
        compare(&step.obs, &recorded.obs, agreement);
        agreement.max_reward_ulps = agreement.max_reward_ulps.max(f32_ulps(step.reward, recorded.reward));
        agreement.reward_bit_identical += usize::from(step.reward.to_bits() == recorded.reward.to_bits());
        agreement.steps += 1;
        assert_eq!(
            (step.terminated, step.truncated),
            (recorded.terminated, recorded.truncated),
            "{name}: flags at step {}",
            t + 1
        );
    }
    let last = episode.steps.last().expect("a recorded episode has steps");
    assert!(last.terminated || last.truncated, "{name}: the recording ends its episode");
}

#[test]
fn mountain_car_replays_gymnasiums_trajectories() {
    let fixture = fixture(include_str!("fixtures/gym/mountain_car_continuous_v0.json"));
    assert_eq!((fixture.env_id.as_str(), fixture.max_episode_steps), ("MountainCarContinuous-v0", 999));
    let mut agreement = Agreement::default();
    for episode in &fixture.episodes {
        let mut env = MountainCar::new();
        let [x, v] = episode.initial_state;
        let obs = env.reset_to(x, v);
        replay(&mut env, episode, &obs, &mut agreement);
    }
    println!("gymnasium {}: MountainCarContinuous-v0 {agreement:?}", fixture.gymnasium);
    assert!(agreement.max_obs_ulps <= FIXTURE_ULPS, "{agreement:?}");
    // The reward is float64 arithmetic on the float32 action and the goal flag: bit for bit.
    assert_eq!(agreement.reward_bit_identical, agreement.steps, "{agreement:?}");
}

#[test]
fn pendulum_replays_gymnasiums_trajectories() {
    let fixture = fixture(include_str!("fixtures/gym/pendulum_v1.json"));
    assert_eq!((fixture.env_id.as_str(), fixture.max_episode_steps), ("Pendulum-v1", 200));
    let mut agreement = Agreement::default();
    for episode in &fixture.episodes {
        assert_eq!(episode.initial_state_dtype, "float64", "{}: the pendulum's state is float64", episode.name);
        let mut env = Pendulum::new();
        let [theta, theta_dot] = episode.initial_state;
        let obs = env.reset_to(theta, theta_dot);
        replay(&mut env, episode, &obs, &mut agreement);
    }
    println!("gymnasium {}: Pendulum-v1 {agreement:?}", fixture.gymnasium);
    assert!(agreement.max_obs_ulps <= FIXTURE_ULPS, "{agreement:?}");
    assert!(agreement.max_reward_ulps <= FIXTURE_ULPS, "{agreement:?}");
}

/// The termination rule the model rollouts apply (`Env::is_terminal`, on f32 observations) is
/// the real step's: over a grid of car states around the goal, each step's `terminated` equals
/// the rule on its observation. The pendulum has no terminal state.
#[test]
fn the_model_termination_rule_is_the_real_steps() {
    let mut agree = 0;
    for i in 0..=60 {
        for j in 0..=20 {
            let (x, v) = (0.40 + 0.0015 * f64::from(i), -0.01 + 0.001 * f64::from(j));
            for action in [-1.0, 0.0, 1.0] {
                let mut car = car_at(x, v);
                let step = car.step(&[action]).expect("one action");
                let obs: Vec<f32> = step.obs.iter().map(|&o| o as f32).collect();
                assert_eq!(car.is_terminal(&obs), step.terminated, "x {x}, v {v}, a {action}");
                agree += usize::from(step.terminated);
            }
        }
    }
    assert!(agree > 100, "the grid reaches the goal often: {agree}");
    assert!(!Pendulum::new().is_terminal(&[1.0, 0.0, 0.0]));
}
