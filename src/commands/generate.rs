//! `evmdiff generate`: write generated cases as state tests, to read what the generator makes
//! (or to seed other tools).

use std::path::PathBuf;

use anyhow::Result;
use evmdiff::write::atomic_write;
use evmdiff_core::Profile;
use evmdiff_core::statetest::write_case;
use serde_json::json;

/// Options of `evmdiff generate`.
#[derive(Debug)]
pub struct GenerateArgs {
    /// Profile name or file.
    pub profile: String,
    /// Campaign seed.
    pub seed: u64,
    /// First case index.
    pub index: u64,
    /// Number of cases.
    pub count: u64,
    /// Output folder; stdout when absent.
    pub out: Option<PathBuf>,
}

/// Generates the cases `index..index+count` of campaign `seed` (the very cases `evmdiff fuzz`
/// runs) and writes them without expectations (no backend is run).
pub fn generate(args: &GenerateArgs) -> Result<()> {
    let profile = Profile::load(&args.profile)?;
    for i in args.index..args.index + args.count {
        let Some((input, mut case)) = evmdiff_generator::campaign_case(&profile, args.seed, i)
        else {
            eprintln!("evmdiff: case {i}: the generator could not build a case");
            continue;
        };
        case.meta = Some(
            json!({ "profile": profile.name, "profile_toml": profile.to_toml(), "seed": args.seed, "index": i, "input": evmdiff::finding::input_hex(&input) }),
        );
        let name = format!("generated-{}-{}", args.seed, i);
        let text = serde_json::to_string_pretty(&write_case(&case, &name, "evmdiff generate"))?;
        match &args.out {
            Some(dir) => atomic_write(&dir.join(format!("{name}.json")), text.as_bytes())?,
            None => println!("{text}"),
        }
    }
    Ok(())
}
