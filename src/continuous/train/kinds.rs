//! The learners and environments `train` knows, with their command-line names.

use super::*;

/// The four learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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

/// The environments (the MuJoCo tasks with feature `mujoco` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// MountainCarContinuous-v0.
    MountainCar,
    /// Pendulum-v1.
    Pendulum,
    /// Hopper-v4 (MuJoCo; run scripts/setup-mujoco.sh first).
    #[cfg(feature = "mujoco")]
    Hopper,
    /// Walker2d-v4 (MuJoCo).
    #[cfg(feature = "mujoco")]
    Walker2d,
    /// HalfCheetah-v4 (MuJoCo).
    #[cfg(feature = "mujoco")]
    HalfCheetah,
    /// Ant-v4 (MuJoCo).
    #[cfg(feature = "mujoco")]
    Ant,
}

impl EnvKind {
    /// Every environment of this build, in the order of the command line's help.
    pub const ALL: &[EnvKind] = &[
        EnvKind::MountainCar,
        EnvKind::Pendulum,
        #[cfg(feature = "mujoco")]
        EnvKind::Hopper,
        #[cfg(feature = "mujoco")]
        EnvKind::Walker2d,
        #[cfg(feature = "mujoco")]
        EnvKind::HalfCheetah,
        #[cfg(feature = "mujoco")]
        EnvKind::Ant,
    ];

    /// The command-line name: `mountain-car`, `pendulum`, and with feature `mujoco` `hopper`,
    /// `walker2d`, `half-cheetah`, `ant`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EnvKind::MountainCar => "mountain-car",
            EnvKind::Pendulum => "pendulum",
            #[cfg(feature = "mujoco")]
            EnvKind::Hopper => "hopper",
            #[cfg(feature = "mujoco")]
            EnvKind::Walker2d => "walker2d",
            #[cfg(feature = "mujoco")]
            EnvKind::HalfCheetah => "half-cheetah",
            #[cfg(feature = "mujoco")]
            EnvKind::Ant => "ant",
        }
    }

    /// Parse a command-line name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming `--env` and the known names.
    pub fn from_name(name: &str) -> Result<Self, crate::Error> {
        Self::ALL.iter().copied().find(|e| e.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|e| e.name()).collect();
            crate::Error::InvalidParameter {
                name: "--env".into(),
                message: format!("unknown environment `{name}`; known: {}", known.join(", ")),
            }
        })
    }

    /// A fresh environment.
    ///
    /// # Errors
    /// [`crate::Error::MujocoModel`] for a MuJoCo task whose model file is missing (run
    /// `scripts/setup-mujoco.sh`); the other environments always build.
    pub fn make(self) -> Result<Box<dyn Env>, crate::Error> {
        Ok(match self {
            EnvKind::MountainCar => Box::new(MountainCar::new()),
            EnvKind::Pendulum => Box::new(Pendulum::new()),
            #[cfg(feature = "mujoco")]
            EnvKind::Hopper => Box::new(crate::continuous::env::Hopper::new()?),
            #[cfg(feature = "mujoco")]
            EnvKind::Walker2d => Box::new(crate::continuous::env::Walker2d::new()?),
            #[cfg(feature = "mujoco")]
            EnvKind::HalfCheetah => Box::new(crate::continuous::env::HalfCheetah::new()?),
            #[cfg(feature = "mujoco")]
            EnvKind::Ant => Box::new(crate::continuous::env::Ant::new()?),
        })
    }
}
