//! `evmdiff trace-diff A B`: where two EIP-3155 traces part.

use std::fmt::Write as _;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use evmdiff_core::eip3155::{self, FIELDS, Line, Trace};

/// Show where two EIP-3155 traces part: the first differing step, its differing fields and
/// the steps before it, then the two summary lines.
///
/// Reads traces written by `evmdiff run --trace`, geth's `evm --json`, `revme` or
/// `ethereum-spec-evm` (numbers as JSON numbers or hex strings). A field one trace lacks is
/// not compared. A STOP in one trace where the other has already left the frame is taken
/// for the implicit STOP at the end of code (which the execution spec reports and evmdiff's
/// backends do not) and skipped. The execution spec prints an SSTORE's refund after the
/// instruction, evmdiff and geth before it: compare those with `--ignore refund`. Summary
/// lines are compared on stateRoot and output (tools count gasUsed differently).
/// Exit code 0 when the traces agree, 1 when they part, 2 on unreadable input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The first trace (the reference).
    a: PathBuf,
    /// The second trace.
    b: PathBuf,
    /// Step fields not to compare, comma-separated (of pc, op, gas, gasCost, memSize,
    /// stack, depth, refund, returnData).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Identical steps to show before the first differing one.
    #[arg(long, default_value_t = 4)]
    context: usize,
}

/// Prints where the traces part; exit 1 when they do.
pub fn run(args: &Args) -> Result<ExitCode> {
    let (text, parted) = trace_diff(&args.a, &args.b, &args.ignore, args.context)?;
    print!("{text}");
    Ok(crate::cli::exit(parted))
}

/// Reads a trace file; errors name the file and the line.
fn load(path: &Path) -> Result<Trace> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    eip3155::read(BufReader::new(file)).with_context(|| format!("{}", path.display()))
}

/// One step as a table row.
fn row(label: &str, index: usize, l: &Line) -> String {
    let top: Vec<String> = l
        .stack
        .iter()
        .rev()
        .take(4)
        .map(|v| format!("{v:#x}"))
        .collect();
    format!(
        "{label:>6} {index:>7}  depth {:<2} pc {:<5} {:<14} gas {:<9} cost {:<7} mem {:<5} refund {:<6} stack(top) [{}]",
        l.depth,
        l.pc,
        l.op_name
            .clone()
            .unwrap_or_else(|| evmdiff_core::trace::op_name(l.op as u8).to_string()),
        l.gas,
        l.gas_cost.map_or("-".into(), |c| c.to_string()),
        l.mem_size,
        l.refund.map_or("-".into(), |r| r.to_string()),
        top.join(", ")
    )
}

/// The report on traces `a` and `b`, and whether they part (in steps or summary).
pub fn trace_diff(a: &Path, b: &Path, ignore: &[String], context: usize) -> Result<(String, bool)> {
    let known: Vec<&str> = FIELDS.iter().copied().chain(["returnData"]).collect();
    for f in ignore {
        if !known.contains(&f.as_str()) {
            bail!(
                "--ignore: unknown field `{f}` (known: {})",
                known.join(", ")
            );
        }
    }
    let fields: Vec<&str> = known
        .iter()
        .copied()
        .filter(|f| !ignore.iter().any(|i| i == f))
        .collect();
    let (ta, tb) = (load(a)?, load(b)?);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "A {} ({} steps)\nB {} ({} steps)",
        a.display(),
        ta.steps.len(),
        b.display(),
        tb.steps.len()
    );
    let comparison = eip3155::diff(&ta, &tb, &fields, context);
    if comparison.skipped != (0, 0) {
        let _ = writeln!(
            out,
            "skipped implicit STOPs at the end of code: {} in A, {} in B",
            comparison.skipped.0, comparison.skipped.1
        );
    }
    let parting = comparison.parting;
    match &parting {
        None => {
            let _ = writeln!(out, "every step agrees (fields: {})", fields.join(", "));
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "traces part at step {}: {}",
                p.index,
                p.fields.join(", ")
            );
            let first = p.index - p.before.len();
            for (k, l) in p.before.iter().enumerate() {
                let _ = writeln!(out, "{}", row("", first + k, l));
            }
            for (label, step) in [("A", &p.left), ("B", &p.right)] {
                match step {
                    Some(l) => {
                        let _ = writeln!(out, "{}", row(label, p.index, l));
                    }
                    None => {
                        let _ = writeln!(out, "{label:>6} {:>7}  (trace ended)", p.index);
                    }
                }
            }
            if let (Some(l), Some(r)) = (&p.left, &p.right)
                && l.stack != r.stack
            {
                let _ = writeln!(out, "stack A: {:?}\nstack B: {:?}", l.stack, r.stack);
            }
        }
    }
    let summary_differs = match (&ta.summary, &tb.summary) {
        (Some(x), Some(y)) => {
            // gasUsed is left out: tools disagree on what it counts (the execution spec
            // reports the frame's gas before refund, evmdiff the transaction's after it).
            let differs = x.state_root != y.state_root
                || x.output.as_deref().map(|o| o.trim_start_matches("0x"))
                    != y.output.as_deref().map(|o| o.trim_start_matches("0x"));
            let _ = writeln!(
                out,
                "summary A: {}\nsummary B: {}{}",
                serde_json::to_string(x)?,
                serde_json::to_string(y)?,
                if differs {
                    "\nsummaries differ (stateRoot or output)"
                } else {
                    ""
                }
            );
            differs
        }
        _ => {
            let _ = writeln!(out, "(a summary line is missing; summaries not compared)");
            false
        }
    };
    Ok((out, parting.is_some() || summary_differs))
}
