//! Every bad input is rejected at construction with a typed error that names the field, the
//! state and the action — never a panic, never a half-built model.

use riskmdp::{Beta, Error, MdpSpec, Policy, SolveOptions, TabularMdp};
use serde_json::{Value, json};

fn risky_arm() -> Value {
    serde_json::from_str(include_str!("../examples/mdps/risky_arm.json")).expect("valid JSON")
}

fn load(v: &Value) -> Result<TabularMdp, Error> {
    TabularMdp::from_json_str(&v.to_string(), "test.json")
}

fn message(v: &Value) -> String {
    load(v).expect_err("must be rejected").to_string()
}

#[test]
fn the_shipped_risky_arm_loads() {
    let mdp = load(&risky_arm()).expect("valid");
    assert_eq!((mdp.n_states(), mdp.n_actions()), (6, 2));
    assert_eq!(mdp.initial_state(), Some(0));
}

#[test]
fn row_not_summing_to_one_names_field_state_and_action() {
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([0, 0.87, 0.1, 0, 0, 0]);
    let err = load(&v).unwrap_err();
    assert!(
        matches!(&err, Error::NotADistribution { field, sum, .. } if field == "transitions[0][1]" && (sum - 0.97).abs() < 1e-12)
    );
    let text = err.to_string();
    assert!(text.contains("state `S`") && text.contains("action `right`") && text.contains("0.97"), "{text}");
}

#[test]
fn rows_within_1e_9_are_accepted_and_renormalised() {
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([0, 0.9 + 5e-10, 0.1, 0, 0, 0]);
    let mdp = load(&v).expect("within tolerance");
    let sum: f64 = mdp.transition_row(0, 1).iter().sum();
    assert!((sum - 1.0).abs() < 1e-15);
}

#[test]
fn probabilities_outside_unit_interval() {
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([0, 1.1, -0.1, 0, 0, 0]);
    assert!(matches!(load(&v), Err(Error::ProbabilityOutOfRange { field, .. }) if field == "transitions[0][1][1]"));
}

#[test]
fn wrong_shapes_name_the_field() {
    let mut v = risky_arm();
    v["transitions"][2][0] = json!([0, 0, 0, 0, 1]);
    assert!(matches!(load(&v), Err(Error::Shape { field, expected: 6, found: 5, .. }) if field == "transitions[2][0]"));
    let mut v = risky_arm();
    v["rewards"][1] = json!([1]);
    assert!(matches!(load(&v), Err(Error::Shape { field, .. }) if field == "rewards[1]"));
    let mut v = risky_arm();
    v["terminal"] = json!([true]);
    assert!(matches!(load(&v), Err(Error::Shape { field, .. }) if field == "terminal"));
    let mut v = risky_arm();
    v["initial"] = json!([1, 0]);
    assert!(matches!(load(&v), Err(Error::Shape { field, .. }) if field == "initial"));
    let mut v = risky_arm();
    v["states"] = json!(5);
    assert!(matches!(load(&v), Err(Error::Shape { field, .. }) if field == "transitions"));
    let mut v = risky_arm();
    v["actions"] = json!(["left", "right", "up"]);
    assert!(matches!(load(&v), Err(Error::Shape { field, .. }) if field == "transitions[0]"));
}

#[test]
fn counts_may_replace_names() {
    let mut v = risky_arm();
    v["states"] = json!(6);
    v["actions"] = json!(2);
    let mdp = load(&v).expect("counts are allowed");
    assert_eq!(mdp.state_names()[3], "s3");
}

#[test]
fn bad_names_and_unknown_fields() {
    let mut v = risky_arm();
    v["states"] = json!(["S", "A", "A", "C", "D", "L"]);
    assert!(message(&v).contains("`A` appears twice"));
    let mut v = risky_arm();
    v["states"] = json!(-3);
    assert!(message(&v).contains("positive count or a list"));
    let mut v = risky_arm();
    v["gama"] = json!(0.9);
    assert!(message(&v).contains("unknown field `gama`"));
    assert!(matches!(TabularMdp::from_json_str("{ not json", "x.json"), Err(Error::Json { .. })));
}

#[test]
fn gamma_horizon_and_initial_are_checked() {
    for gamma in [0.0, -0.5, 1.5] {
        let mut v = risky_arm();
        v["gamma"] = json!(gamma);
        assert!(matches!(load(&v), Err(Error::InvalidGamma { .. })), "γ = {gamma}");
    }
    let mut v = risky_arm();
    v["horizon"] = json!(0);
    assert!(matches!(load(&v), Err(Error::InvalidParameter { name, .. }) if name == "horizon"));
    let mut v = risky_arm();
    v["initial"] = json!([0.5, 0, 0, 0, 0, 0]);
    assert!(matches!(load(&v), Err(Error::NotADistribution { field, .. }) if field == "initial"));
    let text = risky_arm().to_string().replace("[-5,0]", "[-5,1e999]");
    assert!(text.contains("1e999"));
    assert!(
        matches!(TabularMdp::from_json_str(&text, "x.json"), Err(Error::Json { .. })),
        "JSON cannot carry infinity"
    );
}

#[test]
fn non_finite_numbers_in_code_are_rejected() {
    let spec = |reward: f64| MdpSpec {
        name: "x".into(),
        state_names: None,
        action_names: None,
        gamma: 0.9,
        horizon: None,
        initial: None,
        terminal: None,
        transitions: vec![vec![vec![1.0]]].into(),
        rewards: vec![vec![reward]],
        grid: None,
    };
    assert!(matches!(TabularMdp::new(spec(f64::NAN)), Err(Error::NotFinite { field, .. }) if field == "rewards[0][0]"));
    assert!(matches!(TabularMdp::new(spec(f64::INFINITY)), Err(Error::NotFinite { .. })));
    let mut s = spec(1.0);
    s.transitions = vec![vec![vec![f64::NAN]]].into();
    assert!(matches!(TabularMdp::new(s), Err(Error::NotFinite { .. })));
}

#[test]
fn undiscounted_without_horizon_needs_every_policy_to_terminate() {
    // From S, action `left` now loops back to S forever.
    let mut v = risky_arm();
    v["transitions"][0][0] = json!([1, 0, 0, 0, 0, 0]);
    let err = load(&v).unwrap_err();
    assert!(
        matches!(&err, Error::NonTerminating { state, action, closed: 1 } if state == "S" && action == "left"),
        "{err}"
    );
    // A horizon or γ < 1 makes the same dynamics fine.
    v["horizon"] = json!(5);
    assert!(load(&v).is_ok());
    v["horizon"] = json!(null);
    v["gamma"] = json!(0.99);
    assert!(load(&v).is_ok());
}

#[test]
fn grid_must_fit() {
    let mut v = risky_arm();
    v["grid"] = json!({"rows": 2, "cols": 4});
    assert!(matches!(load(&v), Err(Error::InvalidParameter { name, .. }) if name == "grid"));
    v["grid"] = json!({"rows": 2, "cols": 3});
    assert!(load(&v).is_ok());
}

#[test]
fn beta_and_options_are_checked() {
    for beta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(Beta::new(beta), Err(Error::InvalidBeta { .. })));
    }
    let mdp = load(&risky_arm()).unwrap();
    let b = Beta::new(1.0).unwrap();
    for tol in [0.0, -1.0, 1.0, f64::NAN] {
        assert!(matches!(
            riskmdp::value_iteration(&mdp, b, SolveOptions::default().tol(tol)),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

#[test]
fn policies_are_checked_against_the_model() {
    let mdp = load(&risky_arm()).unwrap();
    let err =
        Policy::from_json_str(&mdp, "[[0.5, 0.4], [1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]", "p.json").unwrap_err();
    assert!(matches!(&err, Error::NotADistribution { field, .. } if field == "policy[0]"), "{err}");
    assert!(err.to_string().contains("state `S`"));
    let err = Policy::from_json_str(&mdp, "[[1, 0], [1, 0]]", "p.json").unwrap_err();
    assert!(matches!(err, Error::Shape { expected: 6, found: 2, .. }));
    let err = Policy::from_json_str(&mdp, "[[[1, 0]]]", "p.json").unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "T×S×A needs a horizon");
    assert!(matches!(Policy::from_json_str(&mdp, "\"left\"", "p.json"), Err(Error::Json { .. })));
    // Terminal rows are ignored, even if empty.
    assert!(Policy::from_json_str(&mdp, "[[0, 1], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0]]", "p.json").is_ok());
}

#[test]
fn saved_models_load_back_identically() {
    let mdp = load(&risky_arm()).unwrap();
    let dir = std::env::temp_dir().join(format!("riskmdp-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("arm.json");
    mdp.save(&path).unwrap();
    let back = TabularMdp::load(&path).unwrap();
    assert_eq!(back.to_json_string(), mdp.to_json_string());
    assert!(matches!(mdp.save(dir.join("missing/arm.json")), Err(Error::Io { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn values_beyond_f64_are_an_error_not_infinity() {
    let mut v = risky_arm();
    v["gamma"] = json!(0.9);
    v["rewards"][0] = json!([1e308, -1e308]);
    let mdp = load(&v).unwrap();
    let tiny = Beta::new(1e-300).unwrap();
    assert!(matches!(riskmdp::value_iteration(&mdp, tiny, SolveOptions::default()), Err(Error::Overflow { .. })));
    let err =
        riskmdp::solve_optimal(&mdp.with_horizon(Some(3)).unwrap(), tiny, Default::default(), SolveOptions::default())
            .unwrap_err();
    assert!(matches!(err, Error::Overflow { .. }));
    assert!(err.to_string().contains("beta = 1e-300"), "{err}");
}

/// The message of a rejected file: one line, naming the JSON path of the bad value.
fn json_message(v: &Value) -> String {
    let err = load(v).expect_err("must be rejected");
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text:?}");
    text
}

#[test]
fn wrong_types_name_their_json_path() {
    let mut v = risky_arm();
    v["rewards"][2] = json!("zero");
    let text = json_message(&v);
    assert!(text.starts_with("test.json: rewards[2]: invalid type: string"), "{text}");
    let mut v = risky_arm();
    v["rewards"][2][1] = json!(null);
    assert!(json_message(&v).contains("rewards[2][1]: invalid type: null, expected f64"));
    let mut v = risky_arm();
    v["gamma"] = json!("0.9");
    assert!(json_message(&v).contains("gamma: invalid type: string \"0.9\""));
    let mut v = risky_arm();
    v["horizon"] = json!(-1);
    assert!(json_message(&v).contains("horizon: invalid value: integer `-1`"));
    let mut v = risky_arm();
    v["grid"] = json!({"rows": 2, "cols": 3, "depth": 1});
    assert!(json_message(&v).contains("unknown field `depth`"));
    let text = json_message(&json!([1, 2]));
    assert!(text.contains("expected an MDP file: a JSON object with the fields states, actions"), "{text}");
    let mut v = risky_arm();
    v.as_object_mut().unwrap().remove("gamma");
    assert!(json_message(&v).contains("missing field `gamma`"));
    let text = format!("{} {{}}", risky_arm());
    assert!(
        matches!(TabularMdp::from_json_str(&text, "x.json"), Err(Error::Json { message, .. }) if message.contains("trailing characters"))
    );
}

#[test]
fn a_bad_row_says_what_a_row_must_be() {
    let mut v = risky_arm();
    v["transitions"][0][1] = json!({"A": 0.9, "B": 0.1});
    let text = json_message(&v);
    assert!(
        text.contains(
            "transitions[0][1]: invalid type: map, expected a row (each row must be a list of S probabilities or a list of [next state, probability] pairs)"
        ),
        "{text}"
    );
    // One bad entry: the path goes down to it.
    let mut v = risky_arm();
    v["transitions"][3][0] = json!([0, 0, 0, "one", 0, 0]);
    let text = json_message(&v);
    assert!(text.contains("transitions[3][0][3]: invalid type: string \"one\", expected a probability"), "{text}");
    // Probabilities and pairs mixed in one row.
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([[1, 0.9], 0.1]);
    let text = json_message(&v);
    assert!(
        text.contains("transitions[0][1]: a row mixes probabilities and [next state, probability] pairs"),
        "{text}"
    );
    // A pair of three, and a next state that is not an index.
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([[1, 0.9, 0], [2, 0.1]]);
    assert!(json_message(&v).contains("transitions[0][1][0]: a [next state, probability] pair has exactly 2 entries"));
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([[1.5, 0.9], [2, 0.1]]);
    let text = json_message(&v);
    assert!(
        text.contains("transitions[0][1][0][0]: invalid type: floating point `1.5`, expected the next state"),
        "{text}"
    );
    // Every row error ends with what a row must be.
    assert!(text.contains("(each row must be a list of S probabilities or a list of [next state, probability] pairs)"));
}

#[test]
fn sparse_and_dense_rows_still_mix_across_rows() {
    // Row form is per row: a sparse row among dense ones makes the model sparse, same numbers.
    let mut v = risky_arm();
    v["transitions"][0][1] = json!([[2, 0.1], [1, 0.9]]);
    let mdp = load(&v).expect("a sparse row is allowed");
    assert!(mdp.is_sparse());
    assert_eq!(mdp.transition_row(0, 1).to_vec(), vec![0.0, 0.9, 0.1, 0.0, 0.0, 0.0]);
    // An empty row is a dense row of the wrong length.
    let mut v = risky_arm();
    v["transitions"][1][0] = json!([]);
    assert!(matches!(load(&v), Err(Error::Shape { field, expected: 6, found: 0, .. }) if field == "transitions[1][0]"));
}

#[test]
fn names_with_line_breaks_are_rejected_so_errors_stay_one_line() {
    let mut v = risky_arm();
    v["states"][1] = json!("A\nB");
    let err = load(&v).unwrap_err();
    assert!(matches!(&err, Error::InvalidParameter { name, .. } if name == "states[1]"), "{err}");
    assert!(!err.to_string().contains('\n'));
    let mut v = risky_arm();
    v["actions"][0] = json!("le\u{7}ft");
    assert!(matches!(load(&v), Err(Error::InvalidParameter { name, .. }) if name == "actions[0]"));
    // Text from outside (a path, a key) is escaped in every message.
    let err = Error::InvalidParameter { name: "--state".into(), message: "no state named `a\nb`".into() };
    assert_eq!(err.to_string(), "--state: no state named `a\\nb`");
    let mut v = risky_arm();
    v["gam\nma"] = json!(1);
    assert!(json_message(&v).contains("unknown field `gam\\nma`"));
}

#[test]
fn a_horizon_beyond_memory_is_an_error_not_an_abort() {
    // T·S·A = 10¹²·6·2 time-indexed values would abort the solver's allocation.
    let mut v = risky_arm();
    v["horizon"] = json!(1_000_000_000_000u64);
    let mdp = load(&v);
    assert!(matches!(&mdp, Err(Error::InvalidParameter { name, .. }) if name == "horizon"), "{mdp:?}");
    // 2²⁸ / 12 = 22 369 621 steps is the largest horizon of the 6-state, 2-action arm.
    v["horizon"] = json!(22_369_621);
    assert!(load(&v).is_ok());
    v["horizon"] = json!(22_369_622);
    assert!(load(&v).is_err());
    let arm = load(&risky_arm()).unwrap();
    assert!(matches!(arm.with_horizon(Some(usize::MAX)), Err(Error::InvalidParameter { .. })));
}

#[test]
fn a_small_file_cannot_ask_for_a_huge_table() {
    // 200 000 states and actions declared with empty rows: a table of S·A = 4·10¹⁰ rewards
    // (or S²·A transitions) allocated before the short rows are seen would abort the process.
    let n = 200_000;
    let empty = |k: usize| format!("[{}]", vec!["[]"; k].join(","));
    let mut blocks = vec![empty(n)];
    blocks.extend(std::iter::repeat_n("[]".to_string(), n - 1));
    let text = format!(
        r#"{{"states": {n}, "actions": {n}, "gamma": 0.9, "transitions": [{}], "rewards": {}}}"#,
        blocks.join(","),
        empty(n)
    );
    let err = TabularMdp::from_json_str(&text, "big.json").unwrap_err();
    assert!(matches!(&err, Error::Shape { field, found: 0, .. } if field == "rewards[0]"), "{err}");
    // One action: rewards pass (S rows of 1), the dense S×1×S tensor is never allocated.
    let text = format!(
        r#"{{"states": {n}, "actions": 1, "gamma": 0.9, "transitions": [{}], "rewards": [{}]}}"#,
        vec!["[[]]"; n].join(","),
        vec!["[0]"; n].join(",")
    );
    let err = TabularMdp::from_json_str(&text, "big.json").unwrap_err();
    assert!(matches!(&err, Error::Shape { field, .. } if field == "transitions[0][0]"), "{err}");
}

#[test]
fn a_sparse_model_whose_rows_are_all_empty_saves_and_loads_back() {
    // Found by tests/fuzz_model_file.rs: one terminal state with the sparse row [[0, -0.0]]
    // is stored with no entry; saved naively as `[]`, it read back as a dense row of length 0.
    let text = r#"{"states": 2, "actions": 1, "gamma": 1.0, "terminal": [true, true],
                   "transitions": [[[[0, -0.0]]], [[]]], "rewards": [[1.5], [0]]}"#;
    let mdp = TabularMdp::from_json_str(text, "empty.json").expect("terminal rows may be empty");
    assert!(mdp.is_sparse() && mdp.nonzeros() == 0);
    let back = TabularMdp::from_json_str(&mdp.to_json_string(), "saved.json").expect("loads back");
    assert!(back.is_sparse() && back.nonzeros() == 0);
    assert_eq!(back.to_json_string(), mdp.to_json_string());
}
