//! Claim: the Mountain Car seed table in README and `docs/continuous.md` is the one the committed
//! logs give (`results/mountain_car/*/seed-*/{log,fits}.jsonl`, written by
//! `scripts/mountain-car-seeds.sh`): recounted here from the logs, so that a rerun with other
//! results, or a hand edit of the table, fails until both agree.

use std::path::Path;

use riskmdp::report::seeds::{MOUNTAIN_CAR, markdown, summarise};

#[test]
fn the_seed_table_is_recounted_from_the_committed_logs() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/mountain_car");
    let learners: Vec<_> = MOUNTAIN_CAR
        .iter()
        .map(|&(folder, name, dual)| summarise(&results.join(folder), name, dual).expect("committed runs"))
        .collect();
    // Both learners on the same ten seeds.
    for l in &learners {
        let seeds: Vec<u64> = l.runs.iter().map(|r| r.seed).collect();
        assert_eq!(seeds, (1..=10).collect::<Vec<u64>>(), "{}: seeds", l.name);
        assert!(l.runs.iter().all(|r| r.steps == 25_000), "{}: a run stopped early", l.name);
    }
    let table = markdown(&learners);
    for doc in ["README.md", "docs/continuous.md"] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).expect("readable");
        assert!(text.contains(&table), "{doc} does not hold the table the logs give:\n{table}");
    }
}
