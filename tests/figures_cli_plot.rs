//! The course workflow: `riskmdp sweep FILE --plot OUT` and `riskmdp solve FILE --beta B --plot
//! OUT` draw figures; a model without a grid, a bad extension or an unwritable path give a
//! clear error and exit status 2, never a panic and never a partial file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn riskmdp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_riskmdp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riskmdp-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn written(path: &Path) -> bool {
    std::fs::metadata(path).map(|m| m.len() > 1000).unwrap_or(false)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sweep_plot_writes_png_and_svg() {
    let dir = temp_dir("sweep");
    for name in ["sweep.png", "sweep.svg"] {
        let out_path = dir.join(name);
        let p = out_path.to_str().expect("utf-8 path");
        let out =
            riskmdp(&["sweep", "examples/mdps/risky_arm.json", "--beta-min", "0.1", "--points", "21", "--plot", p]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(written(&out_path), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn solve_plot_draws_a_gridworld() {
    let dir = temp_dir("solve");
    let out_path = dir.join("cliff.png");
    let p = out_path.to_str().expect("utf-8 path");
    let out = riskmdp(&["solve", "examples/mdps/cliff_gridworld.json", "--beta", "0.5", "--plot", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(written(&out_path));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn solve_plot_without_a_grid_is_a_clear_error() {
    let dir = temp_dir("nogrid");
    let out_path = dir.join("arm.png");
    let p = out_path.to_str().expect("utf-8 path");
    let out = riskmdp(&["solve", "examples/mdps/risky_arm.json", "--beta", "1", "--plot", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("declares no grid"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    assert!(!out_path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_or_unknown_plot_path_is_a_clear_error() {
    let dir = temp_dir("unwritable");
    let missing = dir.join("no/such/folder/fig.png");
    let bad_ext = dir.join("fig.pdf");
    for path in [&missing, &bad_ext] {
        let p = path.to_str().expect("utf-8 path");
        let out = riskmdp(&["sweep", "examples/mdps/risky_arm.json", "--points", "5", "--plot", p]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
        assert!(!path.exists());
    }
    // Nothing at all was left in the folder (no temporary file either).
    assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
