//! PDF documents: the print HTML of `wz-report`, printed by Debian's
//! Chromium in headless mode (`--print-to-pdf`), which lays out the CJK text
//! (strict line breaking), numbers the pages from the CSS `@page` margin box
//! and embeds the subset font. Why a browser and not a typesetting library:
//! see docs/documents.md (typst costs a ~13 min cold release build and
//! ~50 MB of binary on 2 cores; `scripts/setup` installs Chromium already
//! for the browser tests).
//!
//! One render at a time per process (a semaphore: a Chromium takes a core
//! and ~150 MB while it prints), each in its own temporary directory
//! (document, profile, output; removed afterwards), killed after
//! [`TIMEOUT`]. The executable is `WZ_CHROMIUM` or `/usr/bin/chromium`;
//! when it is missing the error is [`PdfError::Unavailable`] and the print
//! HTML still works.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The longest a render may take before Chromium is killed.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The default executable (Debian's package).
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No browser to print with: the HTML is still available.
    #[error("no PDF renderer: {0} (install Debian's chromium, or set WZ_CHROMIUM; the print HTML works without it)")]
    Unavailable(String),
    #[error("the PDF renderer did not finish within {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the PDF renderer failed: {0}")]
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct PdfRenderer {
    chromium: PathBuf,
    permit: Arc<Semaphore>,
    timeout: Duration,
}

impl PdfRenderer {
    pub fn new(chromium: impl Into<PathBuf>) -> Self {
        Self { chromium: chromium.into(), permit: Arc::new(Semaphore::new(1)), timeout: TIMEOUT }
    }

    /// The server's renderer: `WZ_CHROMIUM`, or [`DEFAULT_CHROMIUM`]; one per process.
    pub fn shared() -> &'static PdfRenderer {
        static SHARED: OnceLock<PdfRenderer> = OnceLock::new();
        SHARED.get_or_init(|| {
            PdfRenderer::new(std::env::var_os("WZ_CHROMIUM").map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from))
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Prints `html` (a whole document with no external resources) to PDF.
    pub async fn render(&self, html: &str) -> Result<Vec<u8>, PdfError> {
        if !self.chromium.is_file() {
            return Err(PdfError::Unavailable(format!("{} not found", self.chromium.display())));
        }
        let _permit = self.permit.acquire().await.map_err(|_| PdfError::Failed("renderer closed".into()))?;
        let dir = TempDir::new().map_err(|e| PdfError::Failed(format!("temporary directory: {e}")))?;
        let page = dir.0.join("document.html");
        let out = dir.0.join("document.pdf");
        tokio::fs::write(&page, html).await.map_err(|e| PdfError::Failed(format!("writing the document: {e}")))?;
        self.print(&dir.0, &page, &out).await?;
        tokio::fs::read(&out).await.map_err(|e| PdfError::Failed(format!("no PDF written: {e}")))
    }

    async fn print(&self, dir: &Path, page: &Path, out: &Path) -> Result<(), PdfError> {
        let mut cmd = tokio::process::Command::new(&self.chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                PdfError::Unavailable(format!("{}: {e}", self.chromium.display()))
            }
            _ => PdfError::Failed(format!("starting {}: {e}", self.chromium.display())),
        })?;
        // Dropping the future on timeout drops the child, which kills it.
        let output = tokio::time::timeout(self.timeout, child.wait_with_output()).await.map_err(|_| PdfError::Timeout)?;
        let output = output.map_err(|e| PdfError::Failed(e.to_string()))?;
        if !output.status.success() || !out.is_file() {
            let err = String::from_utf8_lossy(&output.stderr);
            let tail: String = err.chars().rev().take(400).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(PdfError::Failed(format!("{}: {}", output.status, tail.trim())));
        }
        Ok(())
    }
}

/// A directory of our own under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let name = format!("wz-pdf-{}-{:016x}", std::process::id(), rand::random::<u64>());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_browser_is_unavailable_not_a_failure() {
        let r = PdfRenderer::new("/nonexistent/chromium").render("<p>x</p>").await;
        assert!(matches!(r, Err(PdfError::Unavailable(_))), "{r:?}");
    }

    #[tokio::test]
    async fn a_renderer_that_hangs_is_killed_at_the_timeout() {
        // `sleep` stands in for a Chromium that never finishes.
        let Some(sleep) = ["/usr/bin/sleep", "/bin/sleep"].into_iter().find(|p| Path::new(p).is_file()) else {
            return;
        };
        let dir = TempDir::new().unwrap();
        let script = dir.0.join("hang.sh");
        std::fs::write(&script, format!("#!/bin/sh\nexec {sleep} 30\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let started = std::time::Instant::now();
        let r = PdfRenderer::new(&script).with_timeout(Duration::from_millis(300)).render("<p>x</p>").await;
        assert!(matches!(r, Err(PdfError::Timeout)), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
