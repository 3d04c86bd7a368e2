//! Option groups several commands share, declared once and flattened into each.

use clap::Args;

/// `--backends`: which backends run.
#[derive(Debug, Clone, Args)]
pub struct BackendsOpt {
    /// Comma-separated backends; a name may repeat (revm,revm checks self-consistency). See
    /// `evmdiff --help` for the list.
    #[arg(long, short, default_value_t = crate::backends::default_list())]
    pub backends: String,
}

/// `--jobs`: worker threads.
#[derive(Debug, Clone, Args)]
pub struct JobsOpt {
    /// Worker threads (default: the number of cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
}

impl JobsOpt {
    /// The number of threads: the one given, else one per core.
    pub fn get(&self) -> usize {
        self.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// `--prover`: prover views compared on top of outcomes and steps.
#[derive(Debug, Clone, Args)]
pub struct ProverOpt {
    /// Prover views to compare too, comma-separated (`witness`, `rw-log`; see --help). A
    /// finding made with views replays with them unless others are given.
    #[arg(long, default_value = "", value_name = "VIEWS", long_help = crate::views::help())]
    pub prover: String,
}

impl ProverOpt {
    /// The parsed selection.
    pub fn views(&self) -> anyhow::Result<crate::views::Views> {
        Ok(crate::views::Views::parse(&self.prover)?)
    }
}

/// `--fork`: only cases of one fork.
#[derive(Debug, Clone, Args)]
pub struct ForkOpt {
    /// Only cases of this fork (e.g. Cancun).
    #[arg(long)]
    pub fork: Option<String>,
}

impl ForkOpt {
    /// The parsed fork; an unknown name is an error that lists the known ones.
    pub fn get(&self) -> anyhow::Result<Option<evmdiff_core::Fork>> {
        Ok(self.fork.as_deref().map(str::parse).transpose()?)
    }
}
