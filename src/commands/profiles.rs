//! `evmdiff profiles` and `evmdiff profiles show NAME|FILE`.

use std::fmt::Write as _;

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::Precompile;
use evmdiff_core::profile::{BUILTIN, builtin};
use evmdiff_core::{Behaviour, Profile};

/// List the built-in profiles, or show one profile's rules.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print the rule table of a built-in profile or a profile file.
    Show {
        /// A built-in name (see `evmdiff profiles`) or a path to a .toml file.
        profile: String,
    },
}

/// Prints the list, or one profile's rule table.
pub fn run(args: &Args) -> Result<ExitCode> {
    match &args.action {
        None => print!("{}", list()),
        Some(Action::Show { profile }) => print!("{}", show(profile)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists the built-in profiles, one per line.
pub fn list() -> String {
    let mut s = String::new();
    for (name, _) in BUILTIN {
        let p = builtin(name).expect("listed built-ins load");
        let _ = writeln!(
            s,
            "{name:<18} {:<18} {}",
            format!("base {}", p.base_fork),
            p.description
        );
    }
    s.push_str("\nShow one with `evmdiff profiles show NAME`, or pass a .toml file anywhere a profile is taken.\n");
    s
}

/// The rule table of a profile.
pub fn show(name_or_path: &str) -> Result<String> {
    let p = Profile::load(name_or_path)?;
    let mut s = String::new();
    let _ = writeln!(s, "profile    {}", p.name);
    let _ = writeln!(s, "           {}", p.description);
    let _ = writeln!(s, "base fork  {}", p.base_fork);
    if let Some(d) = &p.as_of {
        let _ = writeln!(s, "as of      {d}");
    }
    for src in &p.sources {
        let _ = writeln!(s, "source     {src}");
    }
    s.push_str("\nopcodes (everything not listed: as in the base fork)\n");
    if p.opcodes.is_empty() {
        s.push_str("  (no rules)\n");
    }
    for (op, b) in &p.opcodes {
        let _ = writeln!(s, "  0x{op:02x} {:<14} {b}", Opcode(*op).to_string());
    }
    s.push_str("\nprecompiles\n");
    for (pc, b) in p.precompile_table() {
        if p.added_precompile(&pc.address).is_some() {
            continue;
        }
        let marker = if b == Behaviour::Supported {
            ""
        } else {
            "  <- rule"
        };
        let _ = writeln!(
            s,
            "  {:#06x} {:<20} {b}{marker}",
            pc.address.as_slice()[18] as u16 * 256 + pc.address.as_slice()[19] as u16,
            pc.name
        );
    }
    for (a, added) in &p.added {
        let n = u32::from_be_bytes([0, a[17], a[18], a[19]]);
        let what = if Precompile::at(*a).is_some_and(|pc| p.base_fork.includes(pc.introduced)) {
            "replaces the base fork's"
        } else {
            "added"
        };
        let _ = writeln!(
            s,
            "  {n:#06x} {:<20} {} gas  <- {what}",
            added.implementation.keyword(),
            added.gas
        );
    }
    if !p.gas.is_empty() {
        s.push_str("\ngas (instead of the base fork's)\n");
        for (op, g) in &p.gas.opcodes {
            let _ = writeln!(s, "  0x{op:02x} {:<14} {g}", Opcode(*op).to_string());
        }
        for (a, g) in &p.gas.precompiles {
            let name = Precompile::at(*a).map_or_else(|| a.to_string(), |pc| pc.name.to_string());
            let _ = writeln!(s, "  {name:<19} {g}");
        }
    }
    s.push_str("\nlimits\n");
    match p.limits.modexp {
        Some(cap) => {
            let _ = writeln!(
                s,
                "  modexp: base/exponent/modulus length <= {} bytes, otherwise {}",
                cap.max_len, cap.behaviour
            );
        }
        None => s.push_str("  (none)\n"),
    }
    Ok(s)
}
