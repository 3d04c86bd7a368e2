//! `evmdiff generate`: write generated cases as state tests, to read what the generator makes
//! (or to seed other tools).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::write::atomic_write;
use anyhow::Result;
use evmdiff_core::Backend;
use evmdiff_core::Profile;
use evmdiff_core::blockchaintest::write_chain;
use evmdiff_core::statetest::write_case;
use serde_json::json;

/// Write generated cases as state tests (the cases `evmdiff fuzz` would run for this seed).
///
/// No backend runs: the `post` section is absent, so replay them with `evmdiff run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Profile: a built-in name or a .toml file.
    #[arg(long, short, default_value = "mainnet-cancun")]
    pub profile: String,
    /// Campaign seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// First case index.
    #[arg(long, default_value_t = 0)]
    pub index: u64,
    /// Number of cases.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Output folder (one file per case); stdout when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The campaign's gas budget per transaction (`fuzz --case-gas`, as a finding records it
    /// in `case_gas`): the same cases need the same budget. Default: none.
    #[arg(long, value_name = "GAS")]
    pub case_gas: Option<u64>,
    /// Write each case's generator input bytes instead (`generated-SEED-INDEX`, no
    /// extension): a corpus for the cargo-fuzz targets, which read the same bytes the same
    /// way, so libFuzzer starts from (or is measured on) the cases `evmdiff fuzz` runs.
    #[arg(long, requires = "out")]
    pub raw: bool,
}

/// Generates the cases `index..index+count` of campaign `seed` (the very cases `evmdiff fuzz`
/// runs) and writes them: a state test without expectations (no backend is run); a chain as a
/// BlockchainTest, whose headers and `postState` are revm's, which sealed it.
pub fn run(args: &Args) -> Result<ExitCode> {
    let profile = Profile::load(&args.profile)?;
    let network = evmdiff_core::network::label(&profile);
    for i in args.index..args.index + args.count {
        let Some((input, mut case)) =
            evmdiff_oracle::seal::campaign_case_within(&profile, args.seed, i, args.case_gas)
        else {
            eprintln!("evmdiff: case {i}: the generator could not build a case");
            continue;
        };
        case.meta = Some(
            json!({ "profile": profile.name, "profile_toml": profile.to_toml(), "seed": args.seed, "index": i, "case_gas": args.case_gas, "input": crate::finding::input_hex(&input) }),
        );
        let name = format!("generated-{}-{}", args.seed, i);
        if let (true, Some(dir)) = (args.raw, &args.out) {
            atomic_write(&dir.join(&name), &input)?;
            continue;
        }
        let json = if case.is_chain() {
            let outcome = evmdiff_adapters::revm_backend::RevmBackend::default()
                .execute(&case, &profile)
                .ok();
            write_chain(&case, outcome.as_ref(), &name, "evmdiff generate", &network)
                .map_err(|e| anyhow::anyhow!("case {i}: {e}"))?
        } else {
            write_case(&case, &name, "evmdiff generate", &network)
                .ok_or_else(|| anyhow::anyhow!("case {i}: not a state test"))?
        };
        let text = serde_json::to_string_pretty(&json)?;
        match &args.out {
            Some(dir) => atomic_write(&dir.join(format!("{name}.json")), text.as_bytes())?,
            None => println!("{text}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
