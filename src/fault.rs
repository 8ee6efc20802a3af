//! Test-only fault injection (cargo feature `fault-injection`, never in a release build):
//! plants a NaN in one of the engine's two backups, so that the tests can check that every
//! solver and every command reports a fault inside the engine as one error — never prints a
//! NaN, never loops until killed (`tests/engine_faults.rs`).
//!
//! The binary plants from the environment variable `RISKMDP_PLANT_NAN` (`kernel` or
//! `plain`); a library test calls [`plant`].

use std::sync::atomic::{AtomicU8, Ordering};

/// Where a NaN is planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Site {
    /// The fast kernel, `kernel::backup_into` (every solver of the crate).
    Kernel = 1,
    /// The plain backup, [`operators::backup`](crate::operators::backup) (the operators and the
    /// verifier's exact formulas).
    Plain = 2,
}

static PLANTED: AtomicU8 = AtomicU8::new(0);

/// Plant a NaN at `site` from now on (`None`: none), for the whole process.
pub fn plant(site: Option<Site>) {
    PLANTED.store(site.map_or(0, |s| s as u8), Ordering::SeqCst);
}

/// The site named by `RISKMDP_PLANT_NAN` (`kernel` or `plain`), if any.
pub fn from_env() -> Option<Site> {
    match std::env::var("RISKMDP_PLANT_NAN").ok()?.as_str() {
        "kernel" => Some(Site::Kernel),
        "plain" => Some(Site::Plain),
        _ => None,
    }
}

/// The planted fault: the first entry of a backup's output becomes NaN.
pub(crate) fn apply(site: Site, out: &mut [f64]) {
    if PLANTED.load(Ordering::Relaxed) == site as u8
        && let Some(first) = out.first_mut()
    {
        *first = f64::NAN;
    }
}
