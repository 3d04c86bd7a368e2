//! The report's HTML page in a real browser: headless Chromium (Debian's package, run as a
//! command: `--dump-dom`, `--screenshot`) renders it in a frame at a phone's width (390 px)
//! and a desktop's (1,440 px); the page must not scroll sideways and must log no console error
//! or exception. The screenshots are kept in `target/report-screenshots/`.
//!
//! Chromium's command line and not a DevTools-protocol client: the page is measured by a
//! script run inside it, and the client crate (with its generated protocol and a TLS stack)
//! was 61 crates and minutes of every CI build for this one test. A frame, since headless
//! windows are at least 500 px wide: the report's CSS sees the frame's width.

mod campaign;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Chromium, or a failure that says how to install it.
fn chromium() -> PathBuf {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "no Chromium: run scripts/setup-external.sh (apt-get install chromium), or set CHROMIUM"
        )
    })
}

/// A real campaign's folder with a consensus-visible finding added, reported as HTML.
fn page(dir: &Path) -> PathBuf {
    let camp = campaign::folder(dir, &[]);
    campaign::add_consensus_bug(&camp);
    let page = dir.join("report.html");
    let o = campaign::evmdiff(&[
        "report",
        camp.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    page
}

/// Runs first in the page (prepended to its `<head>`): records console errors, warnings and
/// uncaught exceptions, and once the page has loaded writes what the test checks into the
/// frame's parent, whose DOM Chromium prints.
const PROBE: &str = r#"<script>
window.__problems = [];
window.addEventListener("error", e => __problems.push("exception: " + e.message));
window.addEventListener("unhandledrejection", e => __problems.push("rejection: " + e.reason));
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...args) => { __problems.push(level + ": " + args.join(" ")); original.apply(console, args); };
}
window.addEventListener("load", () => {
  const d = document.documentElement;
  const out = parent.document.getElementById("measure");
  // &, < and > as JSON escapes, so that the printed DOM holds the JSON as it is.
  out.textContent = JSON.stringify({
    scroll: d.scrollWidth, client: d.clientWidth, inner: innerWidth,
    sections: document.querySelectorAll("h2").length, problems: __problems,
  }).replace(/[&<>]/g, c => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
});
</script>"#;

/// What the probe measured.
#[derive(Debug, serde::Deserialize)]
struct Measure {
    scroll: u64,
    client: u64,
    inner: u64,
    sections: u64,
    problems: Vec<String>,
}

/// Chromium on `url`, headless, `args` added; its standard output.
fn chromium_on(url: &str, args: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
        ])
        .args(["--virtual-time-budget=5000", "--window-size=1480,940"])
        .args(args)
        .arg(url)
        .output()
        .expect("Chromium runs");
    assert!(
        out.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_report_page_fits_a_phone_and_a_desktop_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(page(dir.path())).unwrap();
    let at = html.find("<head>").expect("the page has a <head>") + "<head>".len();
    let probed = dir.path().join("probed.html");
    std::fs::write(&probed, format!("{}{PROBE}{}", &html[..at], &html[at..])).unwrap();
    let shots = root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for width in [390u32, 1440] {
        let frame = dir.path().join(format!("frame-{width}.html"));
        std::fs::write(
            &frame,
            format!(
                "<!doctype html><html><body style=\"margin:0\"><pre id=\"measure\"></pre>\
                 <iframe src=\"probed.html\" style=\"width:{width}px;height:900px;border:0\"></iframe>\
                 </body></html>"
            ),
        )
        .unwrap();
        let url = format!("file://{}", frame.display());
        let dom = chromium_on(&url, &["--dump-dom"]);
        let json = dom
            .split("<pre id=\"measure\">")
            .nth(1)
            .and_then(|rest| rest.split("</pre>").next())
            .filter(|j| !j.is_empty())
            .unwrap_or_else(|| panic!("at {width} px the page never loaded: {dom}"));
        let m: Measure = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(m.inner, u64::from(width), "the viewport");
        assert!(
            m.scroll <= m.client,
            "at {width} px the page scrolls sideways: {} > {}",
            m.scroll,
            m.client
        );
        // It shows every section.
        assert!(m.sections >= 3, "{} sections", m.sections);
        assert!(m.problems.is_empty(), "at {width} px: {:?}", m.problems);
        let png = shots.join(format!("report-{width}.png"));
        let _ = std::fs::remove_file(&png);
        chromium_on(&url, &[&format!("--screenshot={}", png.display())]);
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "no screenshot at {width} px ({size} bytes)");
    }
}
