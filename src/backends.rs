//! Parsing `--backends revm,evm` into backend instances.

use anyhow::{Result, bail};
use evmdiff_adapters::{BACKENDS, backend};
use evmdiff_core::Backend;

/// The default backend list: every in-process backend of this build.
pub fn default_list() -> String {
    BACKENDS.join(",")
}

/// Fresh instances of the comma-separated backends in `list` (a name may repeat, for
/// self-consistency runs such as `revm,revm`).
pub fn instantiate(list: &str) -> Result<Vec<Box<dyn Backend>>> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match backend(name) {
            Some(b) => out.push(b),
            None => bail!(
                "unknown backend `{name}` (available: {})",
                BACKENDS.join(", ")
            ),
        }
    }
    if out.is_empty() {
        bail!("no backend given (available: {})", BACKENDS.join(", "));
    }
    Ok(out)
}
