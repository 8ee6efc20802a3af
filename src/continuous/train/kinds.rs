//! The learners and environments `train` knows, with their command-line names.

use super::*;

/// The four learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algo {
    /// β-VMBPO: variational dynamics and policy, β by dual descent (Eq. 9).
    BetaVmbpo,
    /// VMBPO: the same with β fixed at 1.
    Vmbpo,
    /// MBPO: a maximum-likelihood model and SAC on its rollouts.
    Mbpo,
    /// SAC: no model, minibatches from D_env.
    Sac,
}

impl Algo {
    /// The command-line name: `beta-vmbpo`, `vmbpo`, `mbpo`, `sac`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algo::BetaVmbpo => "beta-vmbpo",
            Algo::Vmbpo => "vmbpo",
            Algo::Mbpo => "mbpo",
            Algo::Sac => "sac",
        }
    }

    /// Parse a command-line name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming `--algo` and the known names.
    pub fn from_name(name: &str) -> Result<Self, crate::Error> {
        [Algo::BetaVmbpo, Algo::Vmbpo, Algo::Mbpo, Algo::Sac].into_iter().find(|a| a.name() == name).ok_or_else(|| {
            crate::Error::InvalidParameter {
                name: "--algo".into(),
                message: format!("unknown algorithm `{name}`; known: beta-vmbpo, vmbpo, mbpo, sac"),
            }
        })
    }

    pub(super) fn model_based(self) -> bool {
        self != Algo::Sac
    }

    pub(super) fn variational(self) -> bool {
        matches!(self, Algo::BetaVmbpo | Algo::Vmbpo)
    }
}

/// The environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// MountainCarContinuous-v0.
    MountainCar,
    /// Pendulum-v1.
    Pendulum,
}

impl EnvKind {
    /// The command-line name: `mountain-car`, `pendulum`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EnvKind::MountainCar => "mountain-car",
            EnvKind::Pendulum => "pendulum",
        }
    }

    /// Parse a command-line name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming `--env` and the known names.
    pub fn from_name(name: &str) -> Result<Self, crate::Error> {
        [EnvKind::MountainCar, EnvKind::Pendulum].into_iter().find(|e| e.name() == name).ok_or_else(|| {
            crate::Error::InvalidParameter {
                name: "--env".into(),
                message: format!("unknown environment `{name}`; known: mountain-car, pendulum"),
            }
        })
    }

    /// A fresh environment.
    #[must_use]
    pub fn make(self) -> Box<dyn Env> {
        match self {
            EnvKind::MountainCar => Box::new(MountainCar::new()),
            EnvKind::Pendulum => Box::new(Pendulum::new()),
        }
    }
}
