//! The report's HTML page in a real browser: headless Chromium (Debian's package, driven
//! through the DevTools protocol) renders it at a phone's width (390 px) and a desktop's
//! (1,440 px); the page must not scroll sideways and must log no console error. The
//! screenshots are kept in `target/report-screenshots/`.

mod campaign;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use headless_chrome::protocol::cdp::Emulation::SetDeviceMetricsOverride;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::{Browser, LaunchOptions};

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

#[test]
fn the_report_page_fits_a_phone_and_a_desktop_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let page = page(dir.path());
    let shots = root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for width in [390u32, 1440] {
        let browser = Browser::new(LaunchOptions {
            path: Some(chromium()),
            headless: true,
            sandbox: false,
            window_size: Some((width, 900)),
            ..LaunchOptions::default()
        })
        .unwrap();
        let tab = browser.new_tab().unwrap();
        let problems = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = problems.clone();
        tab.enable_log().unwrap();
        tab.enable_runtime().unwrap();
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let problem = match event {
                Event::RuntimeConsoleAPICalled(c) => Some(format!("console: {:?}", c.params)),
                Event::RuntimeExceptionThrown(x) => {
                    Some(format!("exception: {}", x.params.exception_details.text))
                }
                Event::LogEntryAdded(l) => Some(format!("log: {}", l.params.entry.text)),
                _ => None,
            };
            seen.lock().unwrap().extend(problem);
        }))
        .unwrap();
        tab.call_method(SetDeviceMetricsOverride {
            width,
            height: 900,
            device_scale_factor: 1.0,
            mobile: width < 800,
            scale: None,
            screen_width: None,
            screen_height: None,
            position_x: None,
            position_y: None,
            dont_set_visible_size: None,
            screen_orientation: None,
            viewport: None,
            display_feature: None,
            device_posture: None,
        })
        .unwrap();
        tab.navigate_to(&format!("file://{}", page.display()))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let number = |js: &str| {
            tab.evaluate(js, false)
                .unwrap()
                .value
                .and_then(|v| v.as_u64())
                .unwrap_or_else(|| panic!("{js}"))
        };
        let (scroll, client) = (
            number("document.documentElement.scrollWidth"),
            number("document.documentElement.clientWidth"),
        );
        assert_eq!(
            number("window.innerWidth"),
            u64::from(width),
            "the viewport"
        );
        assert!(
            scroll <= client,
            "at {width} px the page scrolls sideways: {scroll} > {client}"
        );
        // It shows every section.
        let sections = number("document.querySelectorAll('h2').length");
        assert!(sections >= 3, "{sections} sections");
        let png = tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        assert!(png.len() > 1000);
        std::fs::write(shots.join(format!("report-{width}.png")), png).unwrap();
        let problems = problems.lock().unwrap();
        assert!(problems.is_empty(), "at {width} px: {problems:?}");
    }
}
