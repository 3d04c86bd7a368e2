//! `evmdiff report`: a real campaign's folder as a report — one section per finding, ranked,
//! each with what differs, the program, a replay command that replays the divergence, and the
//! text to send on; a consensus-visible bug ranks first and gets a private advisory.

mod campaign;

use campaign::{add_consensus_bug, evmdiff, folder};

/// The `## N.` sections of a Markdown report.
fn sections(md: &str) -> Vec<&str> {
    md.split("\n## ").skip(1).collect()
}

#[test]
fn a_campaign_reads_as_a_ranked_report() {
    let dir = tempfile::tempdir().unwrap();
    let camp = folder(dir.path(), &["--report"]);
    // `--report` wrote both forms at the end of the campaign.
    for f in ["report.md", "report.html"] {
        assert!(camp.join(f).exists(), "no {f}");
    }
    let findings = std::fs::read_dir(&camp)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            n.to_str().unwrap().starts_with("divergence-")
        })
        .count();
    assert!(findings >= 2, "{findings} findings");
    let md_path = dir.path().join("report.md");
    let o = evmdiff(&[
        "report",
        camp.to_str().unwrap(),
        "--markdown",
        md_path.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = std::fs::read_to_string(&md_path).unwrap();
    let secs = sections(&md);
    assert_eq!(secs.len(), findings, "{md}");
    // Ranked by the cases that showed each (none is consensus-visible here).
    let counts: Vec<u64> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .take(findings)
        .map(|l| l.split(" | ").nth(2).unwrap().trim().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    for s in &secs {
        for part in [
            "### What differs",
            "### Replay",
            "### Public issue text",
            "**Title:**",
        ] {
            assert!(s.contains(part), "{part} missing in {s}");
        }
        assert!(!s.contains("advisory"), "{s}");
    }
    // The first section's replay command replays its divergence.
    let replay = secs[0]
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    assert_eq!(evmdiff(&args).status.code(), Some(1), "{replay}");
    // A step divergence shows the steps side by side and marks the listing.
    let step = secs
        .iter()
        .find(|s| s.contains("### First differing step"))
        .expect("a localized divergence");
    assert!(
        step.contains("| both |") && step.contains("| **revm** |") && step.contains("| **evm** |")
    );
    assert!(step.contains("<-- both execute this alike"), "{step}");

    // A consensus-visible bug (evm's lost refund, docs/findings.md #2) ranks first, with a
    // private advisory.
    add_consensus_bug(&camp);
    let o = evmdiff(&["report", camp.to_str().unwrap()]);
    let md = String::from_utf8_lossy(&o.stdout);
    let first = sections(&md)[0];
    assert!(first.contains("consensus"), "{first}");
    assert!(
        first.contains("### Private advisory text (coordinated disclosure)"),
        "{first}"
    );
    assert!(
        first.contains("**To:** the security contact of evm"),
        "{first}"
    );

    // The same report as one self-contained page: a section per bug, nothing fetched.
    let page = dir.path().join("report.html");
    let o = evmdiff(&[
        "report",
        camp.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<h2>").count(), findings + 1);
    for outside in ["src=", "href=", "url(", "@import", "<script"] {
        assert!(!html.contains(outside), "the page refers to `{outside}`");
    }
    assert!(html.contains("Private advisory text (coordinated disclosure)"));

    // Not a folder: bad input.
    let o = evmdiff(&["report", "no/such/folder"]);
    assert_eq!(o.status.code(), Some(2));
}
