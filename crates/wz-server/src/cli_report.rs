//! `wenzheng report`: every document and spreadsheet of a stored session
//! written to a directory, without serving it (stop the server first when
//! it uses the same embedded store: its file is locked while it runs).
//!
//! The session is loaded exactly as the server loads it (a hub on the
//! store, the chain checked), then rendered by `wz-report` like the HTTP
//! routes do; `--pdf` prints the documents with Chromium too.

use crate::pdf::PdfRenderer;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wz_hub::{Hub, HubConfig};
use wz_report::{Document, Export, Input};

#[derive(clap::Parser, Debug, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub at: crate::config::StoredAt,
    /// The session.
    #[arg(long)]
    pub session: String,
    /// Where to write the files (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Also print the documents to PDF (needs Chromium).
    #[arg(long)]
    pub pdf: bool,
    /// The Chromium executable that prints the PDFs.
    #[arg(long, env = "WZ_CHROMIUM", default_value = crate::pdf::DEFAULT_CHROMIUM)]
    pub chromium: PathBuf,
    /// The server's public address, for the letters' line on how to reply
    /// (the unit page's address; never a join link).
    #[arg(long, env = "WENZHENG_PUBLIC_URL")]
    pub public_url: Option<String>,
}

pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(report(args))
}

async fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let (store, _) = crate::cli::open_store(&args.at.store, &args.at.data_dir).await?;
    let hub = Hub::new(store, HubConfig::default());
    hub.load_all().await.context("loading stored sessions")?;
    if let Some((_, why)) = hub.refused().into_iter().find(|(id, _)| id == &args.session) {
        bail!("session {}: its stored record does not hold ({why}); run `wenzheng verify --session {}`", args.session, args.session);
    }
    let state = hub.state(&args.session).await.with_context(|| format!("session {}", args.session))?;
    hub.shutdown().await;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let head = state.head.hex();
    let input = Input { session: &state.session, head: &head, now: state.now };
    let reply = crate::reports::how_to_reply(args.public_url.as_deref().unwrap_or("").trim_end_matches('/'));
    let pdf = args.pdf.then(|| PdfRenderer::new(&args.chromium));
    let mut written = 0;
    for doc in Document::all(&state.session) {
        let html = doc.render(&input, Some(&reply)).expect("every unit of the session has a letter");
        let stem = doc.file_stem(&state.session);
        written += write(&args.out, &format!("{stem}.html"), html.as_bytes())?;
        if let Some(r) = &pdf {
            let started = Instant::now();
            let bytes = r.render(&html).await.with_context(|| format!("printing {stem}"))?;
            written += write(&args.out, &format!("{stem}.pdf"), &bytes)?;
            println!("  {stem}.pdf: {} KiB in {:.1} s", bytes.len().div_ceil(1024), started.elapsed().as_secs_f64());
        }
    }
    for e in Export::ALL {
        let t = e.table(&input);
        written += write(&args.out, &format!("{}.csv", e.title()), &t.to_csv())?;
        written += write(&args.out, &format!("{}.xlsx", e.title()), &t.to_xlsx().context("writing the xlsx")?)?;
    }
    println!("session {}: {written} files written to {}; chain head {head}", args.session, args.out.display());
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<usize> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(1)
}
