//! Writing result files atomically (temp file + rename), so a crash never leaves half a file.

use std::io::Write;
use std::path::Path;

use crate::error::{OracleError, Result};

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(OracleError::io(dir, "cannot create folder"))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(OracleError::io(dir, "cannot create a temporary file"))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(OracleError::io(path, "write failed"))?;
    tmp.persist(path)
        .map_err(|e| OracleError::io(path, "cannot rename into place")(e.error))?;
    Ok(())
}
