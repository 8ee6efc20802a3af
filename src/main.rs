//! `riskmdp`: the command-line front end. Each subcommand parses its flags, calls one library
//! function and prints a table (default) or JSON (`--json`). Errors print one line on stderr
//! and exit with status 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ndarray::{Array2, Axis};
use serde_json::{Value, json};

use riskmdp::dual::{DualDescent, dual_descent, kl_roots, log_grid};
use riskmdp::operators::{posterior_dynamics, posterior_policy};
use riskmdp::sweep::sweep;
use riskmdp::utility::KlWeights;
use riskmdp::{Beta, Error, Method, Policy, Result, Solution, SolveOptions, TabularMdp, solve_optimal, solve_policy};

#[derive(Parser)]
#[command(name = "riskmdp", version, about = "Exact risk-sensitive RL-as-inference (β-VMBPO) on tabular MDPs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    ValueIteration,
    PolicyIteration,
}

#[derive(Clone, Copy, ValueEnum)]
enum WeightsArg {
    Occupancy,
    Uniform,
}

#[derive(Subcommand)]
enum Command {
    /// Solve for Q* (or Q_π with --policy) at one β.
    Solve {
        /// MDP file (JSON).
        file: PathBuf,
        /// Risk parameter β > 0.
        #[arg(long, allow_negative_numbers = true)]
        beta: f64,
        /// Evaluate this policy (JSON S×A, or T×S×A with a horizon) instead of optimising.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Algorithm for the optimum without a horizon.
        #[arg(long, value_enum, default_value = "value-iteration")]
        method: MethodArg,
        /// Relative tolerance on the certified error bound.
        #[arg(long, default_value_t = riskmdp::tolerance::SOLVE, allow_negative_numbers = true)]
        tol: f64,
        /// Most operator sweeps.
        #[arg(long, default_value_t = 1_000_000)]
        max_iter: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also draw the greedy policy, its posterior dynamics and the greedy path to this
        /// .png or .svg file (models with a `grid` only).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Sweep β on a log grid at one state: certainty equivalents, greedy action, posterior
    /// dynamics, and the exact β of every greedy switch.
    Sweep {
        /// MDP file (JSON).
        file: PathBuf,
        /// Smallest β.
        #[arg(long, default_value_t = 1e-2, allow_negative_numbers = true)]
        beta_min: f64,
        /// Largest β.
        #[arg(long, default_value_t = 1e3, allow_negative_numbers = true)]
        beta_max: f64,
        /// Grid points.
        #[arg(long, default_value_t = 41)]
        points: usize,
        /// State (name or index); default: the initial state.
        #[arg(long)]
        state: Option<String>,
        /// Relative solver tolerance.
        #[arg(long, default_value_t = riskmdp::tolerance::SOLVE, allow_negative_numbers = true)]
        tol: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also draw the certainty equivalents and posterior dynamics against β (Fig. 1 style)
        /// to this .png or .svg file.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// The β dual: every root of KL_β = ε, and optionally a dual-descent trajectory.
    Dual {
        /// MDP file (JSON).
        file: PathBuf,
        /// KL budget ε > 0 (nats).
        #[arg(long, allow_negative_numbers = true)]
        epsilon: f64,
        /// How per-pair KLs are averaged.
        #[arg(long, value_enum, default_value = "occupancy")]
        weights: WeightsArg,
        /// Smallest β of the root grid (and the lower clamp of dual descent).
        #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
        beta_min: f64,
        /// Largest β of the root grid.
        #[arg(long, default_value_t = 1e7, allow_negative_numbers = true)]
        beta_max: f64,
        /// Grid points for the root search.
        #[arg(long, default_value_t = 121)]
        points: usize,
        /// Start dual descent at this β.
        #[arg(long, allow_negative_numbers = true)]
        beta0: Option<f64>,
        /// Dual-descent step size η.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        lr: f64,
        /// Dual-descent steps.
        #[arg(long, default_value_t = 100)]
        steps: usize,
        /// Relative solver tolerance.
        #[arg(long, default_value_t = 1e-10, allow_negative_numbers = true)]
        tol: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Time one exact sweep of T* against the memory-bandwidth floor, on a dense random model
    /// (--states, --actions) or a sparse n×n cliff gridworld (--grid n).
    Bench {
        /// States of the random dense model.
        #[arg(long, default_value_t = 2000)]
        states: usize,
        /// Benchmark the n×n cliff gridworld (sparse) instead.
        #[arg(long, conflicts_with_all = ["states", "actions"])]
        grid: Option<usize>,
        /// Actions of the random dense model.
        #[arg(long, default_value_t = 4)]
        actions: usize,
        /// Risk parameter β of the sweeps.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        beta: f64,
        /// Timed repetitions per median.
        #[arg(long, default_value_t = 15)]
        reps: usize,
        /// Seed of the random model.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Tolerance of the timed value iteration.
        #[arg(long, default_value_t = 1e-8, allow_negative_numbers = true)]
        tol: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check the paper's claims (Theorems 4.1–4.4, Eqs. 6–7, β limits, Fig. 1) on random MDPs.
    /// Exits 1 only if a theorem fails; probes are reported, never fatal.
    Verify {
        /// Only this claim (e.g. theorem-4.2-discounted); default: all.
        #[arg(long)]
        claim: Option<String>,
        /// Random cases per claim.
        #[arg(long, default_value_t = 200)]
        cases: usize,
        /// Seed of the run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Save failing cases here as MDP files (`<claim>-<case>.json`) with a sidecar.
        #[arg(long)]
        save_counterexamples: Option<PathBuf>,
        /// Check a planted-bug operator instead of the exact one (for demonstrating the checks).
        #[arg(long, hide = true, default_value = "exact")]
        operators: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify { claim, cases, seed, json, save_counterexamples, operators } => {
            let options = riskmdp::verify::VerifyOptions {
                claim,
                cases,
                seed,
                save_dir: save_counterexamples,
                property_only: false,
            };
            return cmd_verify(&options, &operators, json);
        }
        Command::Solve { file, beta, policy, method, tol, max_iter, json, plot } => cmd_solve(
            &file,
            beta,
            policy.as_deref(),
            method,
            SolveOptions::default().tol(tol).max_iterations(max_iter),
            json,
            plot.as_deref(),
        ),
        Command::Sweep { file, beta_min, beta_max, points, state, tol, json, plot } => cmd_sweep(
            &file,
            (beta_min, beta_max, points),
            state.as_deref(),
            SolveOptions::default().tol(tol),
            json,
            plot.as_deref(),
        ),
        Command::Dual { file, epsilon, weights, beta_min, beta_max, points, beta0, lr, steps, tol, json } => {
            let weights = match weights {
                WeightsArg::Occupancy => KlWeights::Occupancy,
                WeightsArg::Uniform => KlWeights::Uniform,
            };
            let descent = beta0.map(|beta0| DualDescent { epsilon, beta0, lr, steps, beta_min, weights });
            cmd_dual(
                &file,
                epsilon,
                weights,
                (beta_min, beta_max, points),
                descent,
                SolveOptions::default().tol(tol),
                json,
            )
        }
        Command::Bench { states, grid, actions, beta, reps, seed, tol, json } => {
            cmd_bench((states, actions, grid), beta, reps, seed, tol, json)
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A number for a table: fixed point where readable, scientific otherwise.
fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-3..1e6).contains(&a) { format!("{x:.6}") } else { format!("{x:.6e}") }
}

fn to_json<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap_or(Value::Null)
}

fn rows2(a: &Array2<f64>) -> Value {
    Value::from(a.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
}

/// Posterior dynamics as JSON: S×A×S for a dense model, S×A lists of [s', q] pairs for a
/// sparse one (the same form as the model's own rows).
fn posterior_json(mdp: &TabularMdp, v: &[f64]) -> Value {
    if !mdp.is_sparse() {
        return Value::from(
            posterior_dynamics(mdp, ndarray::ArrayView1::from(v))
                .outer_iter()
                .map(|m| rows2(&m.to_owned()))
                .collect::<Vec<_>>(),
        );
    }
    Value::from(
        (0..mdp.n_states())
            .map(|s| {
                Value::from(
                    (0..mdp.n_actions())
                        .map(|a| json!(riskmdp::operators::posterior_row(mdp, v, s, a)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    )
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).chain([header[c].chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header)];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

fn cmd_solve(
    file: &std::path::Path,
    beta: f64,
    policy: Option<&std::path::Path>,
    method: MethodArg,
    options: SolveOptions,
    as_json: bool,
    plot: Option<&std::path::Path>,
) -> Result<String> {
    let mdp = TabularMdp::load(file)?;
    let beta = Beta::new(beta)?;
    let method = match method {
        MethodArg::ValueIteration => Method::ValueIteration,
        MethodArg::PolicyIteration => Method::PolicyIteration,
    };
    let solution = match policy {
        Some(path) => solve_policy(&mdp, beta, &Policy::load(&mdp, path)?, options)?,
        None => solve_optimal(&mdp, beta, method, options)?,
    };
    if let Some(path) = plot {
        riskmdp::plot::gridworld::save_solution(&mdp, &solution, path)?;
    }
    let b = beta.get();
    let mut out = json!({
        "name": mdp.name(), "states": mdp.state_names(), "actions": mdp.action_names(),
        "gamma": mdp.gamma(), "horizon": mdp.horizon(), "beta": b,
    });
    let (iterations, residual, error_bound, termination) = match &solution {
        Solution::Stationary(sol) => {
            let Policy::Stationary(pi) = &sol.policy else {
                unreachable!("stationary solutions have stationary policies")
            };
            out["q"] = rows2(&sol.q);
            out["v"] = Value::from(sol.v.to_vec());
            out["certainty_equivalent"] = Value::from(sol.v.iter().map(|v| b * v).collect::<Vec<_>>());
            out["greedy"] = Value::from(sol.greedy.clone());
            out["posterior_dynamics"] = posterior_json(&mdp, &sol.v.to_vec());
            out["posterior_policy"] = rows2(&posterior_policy(&mdp, pi.view(), sol.q.view()));
            (sol.iterations, sol.residual, sol.error_bound, sol.termination)
        }
        Solution::FiniteHorizon(sol) => {
            let horizon = sol.q.len_of(Axis(0));
            out["q"] = Value::from(sol.q.outer_iter().map(|m| rows2(&m.to_owned())).collect::<Vec<_>>());
            let v: Vec<Vec<f64>> = (0..horizon).map(|t| sol.v.row(t).to_vec()).collect();
            out["certainty_equivalent"] =
                Value::from(v.iter().map(|r| r.iter().map(|x| b * x).collect::<Vec<_>>()).collect::<Vec<_>>());
            out["v"] = Value::from(v);
            out["greedy"] = Value::from(sol.greedy.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
            out["posterior_dynamics"] =
                Value::from((0..horizon).map(|t| posterior_json(&mdp, &sol.v.row(t + 1).to_vec())).collect::<Vec<_>>());
            out["posterior_policy"] = Value::from(
                (0..horizon)
                    .map(|t| rows2(&posterior_policy(&mdp, sol.policy.at(t), sol.q.index_axis(Axis(0), t))))
                    .collect::<Vec<_>>(),
            );
            (horizon, 0.0, 0.0, riskmdp::Termination::Exact)
        }
    };
    // The risk-neutral reference (β = ∞) of the same policy: its expected return.
    let expected = match &solution {
        Solution::Stationary(sol) => riskmdp::solve::risk_neutral::expected_q(&mdp, &sol.policy)?
            .outer_iter()
            .zip(0..)
            .map(|(q, s)| if mdp.is_terminal(s) { 0.0 } else { sol.policy.at(0).row(s).dot(&q) })
            .collect::<Vec<f64>>(),
        Solution::FiniteHorizon(sol) => {
            let q = riskmdp::solve::risk_neutral::expected_q_finite_horizon(&mdp, Some(&sol.policy))?;
            (0..mdp.n_states())
                .map(|s| {
                    if mdp.is_terminal(s) { 0.0 } else { sol.policy.at(0).row(s).dot(&q.index_axis(Axis(0), 0).row(s)) }
                })
                .collect()
        }
    };
    if !expected.iter().all(|x| x.is_finite()) {
        // The risk-neutral reference (β = ∞) overflows first: rewards/(1 − γ) beyond f64.
        return Err(Error::Overflow { beta: f64::INFINITY });
    }
    out["expected_return"] = Value::from(expected.clone());
    out["iterations"] = json!(iterations);
    out["residual"] = json!(residual);
    out["error_bound"] = json!(error_bound);
    out["termination"] = to_json(&termination);
    if as_json {
        return Ok(serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    let what = if policy.is_some() { "Q_π of the given policy" } else { "optimal Q*" };
    let horizon = mdp.horizon().map_or("none".to_string(), |t| t.to_string());
    let mut text = format!(
        "{}: {what} at β = {b}, γ = {}, horizon {horizon}\n{termination} after {iterations} sweep(s); residual {}, error bound {}\n",
        mdp.name(),
        mdp.gamma(),
        num(residual),
        num(error_bound)
    );
    if mdp.horizon().is_some() {
        text.push_str("values at t = 0 (--json for every t)\n");
    }
    let q0 = solution.q0();
    let v0 = solution.v0();
    let greedy = riskmdp::solve::greedy_actions(&mdp, q0.view());
    let mut header: Vec<String> = ["state", "V (nats)", "β·V", "E[return]", "greedy"].map(String::from).to_vec();
    header.extend(mdp.action_names().iter().map(|a| format!("β·Q({a})")));
    let rows: Vec<Vec<String>> = (0..mdp.n_states())
        .map(|s| {
            if mdp.is_terminal(s) {
                let mut r = vec![mdp.state_names()[s].clone(), "0".into(), "0".into(), "0".into(), "(terminal)".into()];
                r.extend(std::iter::repeat_n(String::new(), mdp.n_actions()));
                return r;
            }
            let mut r = vec![
                mdp.state_names()[s].clone(),
                num(v0[s]),
                num(b * v0[s]),
                num(expected[s]),
                mdp.action_names()[greedy[s]].clone(),
            ];
            r.extend((0..mdp.n_actions()).map(|a| num(b * q0[[s, a]])));
            r
        })
        .collect();
    text.push_str(&table(&header, &rows));
    Ok(text)
}

fn resolve_state(mdp: &TabularMdp, state: Option<&str>) -> Result<usize> {
    match state {
        Some(key) => mdp.state_index(key).ok_or_else(|| Error::InvalidParameter {
            name: "--state".into(),
            message: format!("no state named or numbered `{key}`"),
        }),
        None => mdp.initial_state().ok_or_else(|| Error::InvalidParameter {
            name: "--state".into(),
            message: "the initial distribution is not a single state; name one with --state".into(),
        }),
    }
}

fn cmd_sweep(
    file: &std::path::Path,
    (beta_min, beta_max, points): (f64, f64, usize),
    state: Option<&str>,
    options: SolveOptions,
    as_json: bool,
    plot: Option<&std::path::Path>,
) -> Result<String> {
    options.validate()?;
    let mdp = TabularMdp::load(file)?;
    let state = resolve_state(&mdp, state)?;
    let grid = log_grid(beta_min, beta_max, points)?;
    let result = sweep(&mdp, state, &grid, options)?;
    if let Some(path) = plot {
        riskmdp::plot::beta_sweep::save(&mdp, &result, path)?;
    }
    let actions = mdp.action_names();
    if as_json {
        let mut out = to_json(&result);
        out["state_name"] = json!(mdp.state_names()[state]);
        out["actions"] = json!(actions);
        out["states"] = json!(mdp.state_names());
        return Ok(serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    // Posterior columns: next states in the support of P(·|state, a).
    let support: Vec<(usize, usize)> = (0..mdp.n_actions())
        .flat_map(|a| {
            let row = mdp.transition_row(state, a);
            (0..mdp.n_states()).filter(move |&j| row[j] > 0.0).map(move |j| (a, j))
        })
        .collect();
    let show_posterior = support.len() <= 8;
    let mut header = vec!["β".to_string()];
    header.extend(actions.iter().map(|a| format!("β·Q({a})")));
    header.push("greedy".into());
    if show_posterior {
        header.extend(support.iter().map(|&(a, j)| format!("q({}|{})", mdp.state_names()[j], actions[a])));
    }
    let rows: Vec<Vec<String>> = result
        .points
        .iter()
        .map(|p| {
            let mut r = vec![num(p.beta)];
            r.extend(p.certainty_equivalent.iter().map(|&x| num(x)));
            r.push(actions[p.greedy].clone());
            if show_posterior {
                r.extend(support.iter().map(|&(a, j)| num(p.posterior_dynamics[a][j])));
            }
            r
        })
        .collect();
    let mut text =
        format!("{}: β sweep at state `{}`\n{}\n", mdp.name(), mdp.state_names()[state], table(&header, &rows));
    if result.switches.is_empty() {
        text.push_str("no switch of the greedy action in this range");
    }
    for sw in &result.switches {
        text.push_str(&format!(
            "greedy switches from `{}` to `{}` at β = {:.12}\n",
            actions[sw.from], actions[sw.to], sw.beta
        ));
    }
    Ok(text.trim_end().to_string())
}

fn cmd_dual(
    file: &std::path::Path,
    epsilon: f64,
    weights: KlWeights,
    grid: (f64, f64, usize),
    descent: Option<DualDescent>,
    options: SolveOptions,
    as_json: bool,
) -> Result<String> {
    options.validate()?;
    let mdp = TabularMdp::load(file)?;
    let scan = kl_roots(&mdp, epsilon, (grid.0, grid.1), grid.2, weights, options)?;
    let trajectory = descent.map(|d| dual_descent(&mdp, d, options)).transpose()?;
    if as_json {
        let mut out = to_json(&scan);
        out["weights"] = json!(match weights {
            KlWeights::Occupancy => "occupancy",
            KlWeights::Uniform => "uniform",
        });
        if let Some(traj) = &trajectory {
            out["trajectory"] = Value::from(traj.iter().map(|s| vec![s.beta, s.kl]).collect::<Vec<_>>());
            out["beta"] = json!(traj.last().map(|s| s.beta));
        }
        return Ok(serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    let list = |xs: &[f64]| {
        if xs.is_empty() { "none".to_string() } else { xs.iter().map(|&x| num(x)).collect::<Vec<_>>().join(", ") }
    };
    let mut text = format!(
        "{}: KL_β = ε = {epsilon} on {} points of β in [{}, {}]\nroots:        {}\nstable roots: {}\n",
        mdp.name(),
        grid.2,
        num(grid.0),
        num(grid.1),
        list(&scan.roots),
        list(&scan.stable_roots)
    );
    for j in &scan.jumps {
        text.push_str(&format!(
            "KL_β jumps across ε at β = {} (greedy policy switch; {})\n",
            num(j.beta),
            if j.stable { "attracting" } else { "repelling" }
        ));
    }
    let stride = (scan.kl_curve.len() / 12).max(1);
    let rows: Vec<Vec<String>> = scan.kl_curve.iter().step_by(stride).map(|[b, k]| vec![num(*b), num(*k)]).collect();
    text.push_str(&table(&["β".into(), "KL_β".into()], &rows));
    if let Some(traj) = trajectory {
        let last = traj.last().copied().unwrap_or(riskmdp::dual::DualStep { beta: f64::NAN, kl: f64::NAN });
        text.push_str(&format!(
            "\ndual descent: {} steps from β = {} → β = {}, KL_β = {}",
            traj.len() - 1,
            num(traj[0].beta),
            num(last.beta),
            num(last.kl)
        ));
    }
    Ok(text)
}

fn cmd_bench(
    (states, actions, grid): (usize, usize, Option<usize>),
    beta: f64,
    reps: usize,
    seed: u64,
    tol: f64,
    as_json: bool,
) -> Result<String> {
    let beta = Beta::new(beta)?;
    SolveOptions::default().tol(tol).validate()?;
    let mdp = match grid {
        Some(n) => riskmdp::envs::Gridworld::cliff_scaled(n)?.build()?,
        None => riskmdp::bench::random_dense(states, actions, seed)?,
    };
    let r = riskmdp::bench::run(&mdp, beta, reps, tol)?;
    if as_json {
        return Ok(serde_json::to_string_pretty(&r).unwrap_or_default());
    }
    Ok(format!(
        "{} ({} states, {} nonzeros): β = {}, {} thread(s), P = {:.1} MB read per sweep\n\
         exact sweep of T*   {:>10.3} ms (median of {})\n\
         one read of P       {:>10.3} ms ({:.1} GB/s): the sweep runs at {:.0}% of the floor\n\
         plain per-row kernel{:>10.3} ms\n\
         value iteration     {:>10.3} ms, {} sweeps to tol {:e}",
        r.model,
        r.states,
        r.nonzeros,
        r.beta,
        r.threads,
        r.bytes_per_sweep as f64 / 1e6,
        r.sweep_ms,
        r.reps,
        r.floor_ms,
        r.bandwidth_gb_s,
        100.0 * r.floor_fraction,
        r.plain_sweep_ms,
        r.solve_ms,
        r.iterations,
        r.tol
    ))
}

/// `riskmdp verify`: exit 0 if every theorem holds, 1 if one fails, 2 on bad input.
fn cmd_verify(options: &riskmdp::verify::VerifyOptions, operators: &str, as_json: bool) -> ExitCode {
    let Some(ops) = riskmdp::verify::operators::by_name(operators) else {
        eprintln!("error: unknown operators `{operators}`");
        return ExitCode::from(2);
    };
    let reports = match riskmdp::verify::run(options, ops) {
        Ok(r) => r.claims,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if as_json {
        println!("{}", to_json(&reports));
    } else {
        let header: Vec<String> =
            ["claim", "kind", "cases", "passed", "worst violation", "tolerance"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                vec![
                    r.claim.to_string(),
                    format!("{:?}", r.kind).to_lowercase(),
                    r.cases.to_string(),
                    r.passed.to_string(),
                    format!("{:.3e}", r.worst.amount),
                    format!("{:.0e}", r.tolerance),
                ]
            })
            .collect();
        println!("{}", table(&header, &rows));
        for r in reports.iter().filter(|r| !r.holds()) {
            println!(
                "\n{} ({:?}): {} of {} cases fail; worst (case {}): {}",
                r.claim,
                r.kind,
                r.cases - r.passed,
                r.cases,
                r.worst_case,
                r.worst.detail
            );
            for c in &r.counterexamples {
                let saved = c.saved.as_deref().map(|p| format!(" saved to {p}")).unwrap_or_default();
                println!(
                    "  case {}: β = {:.6e}, γ = {}, violation {:.3e}{saved}",
                    c.case, c.beta, c.gamma, c.violation.amount
                );
            }
        }
    }
    if riskmdp::verify::theorems_hold(&reports) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
