//! `wenzheng verify` and `wenzheng export-record` (issue 9): check a
//! session's record in a store or in an exported file, and write the public
//! record an outside party checks with the same `verify --file`.
//!
//! On a store, `verify` checks everything: the hash chain, the replay of
//! every event, the stored claims and counters against a recount, and then
//! the public record built from it (every revealed result equals a recount
//! of the choices). On a file it checks what the file can show: see
//! `wz_protocol::record`.

use crate::cli::open_store;
use crate::config::{ExportRecordArgs, VerifyArgs};
use anyhow::{Context, bail};
use std::path::Path;
use wz_hub::Hub;
use wz_protocol::record::{self, PublicRecord};

pub(crate) fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    if let Some(file) = &args.file {
        return verify_file(file, args.expect_head.as_deref());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let (store, _) = open_store(&args.at.store, &args.at.data_dir).await?;
        let ids = match &args.session {
            Some(s) => vec![s.clone()],
            None => store.sessions().await?,
        };
        anyhow::ensure!(!ids.is_empty(), "no session stored");
        for id in ids {
            // One read of the store: chain, replay, claims and counters, then
            // the public record built from the same pass and recounted.
            let audit = Hub::audit(&store, &id).await.with_context(|| format!("session {id}: the record does not hold"))?;
            let (r, checked) = (audit.report, audit.checked);
            if let Some(problem) = r.problems.first() {
                bail!("session {id}: the stored tallies disagree with the log: {problem} ({} problem(s))", r.problems.len());
            }
            expect_head(&id, &r.head, args.expect_head.as_deref())?;
            println!(
                "session {id}: {} events, the record holds; {} ballots and {} follow-up ratings recounted, {} closed evaluation(s) equal their revealed results; chain head {}",
                r.events, checked.ballots, checked.item_ratings, checked.closed_evaluations, r.head
            );
        }
        Ok(())
    })
}

fn expect_head(id: &str, head: &str, want: Option<&str>) -> anyhow::Result<()> {
    if let Some(want) = want
        && !want.eq_ignore_ascii_case(head)
    {
        bail!("session {id}: the chain head is {head}, not {want}: entries were cut off or the record is another one");
    }
    Ok(())
}

fn verify_file(file: &Path, want: Option<&str>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let r = PublicRecord::decode(&text)?;
    let checked = record::check(&r).with_context(|| format!("session {}: the public record does not hold", r.session))?;
    expect_head(&r.session, &checked.head, want)?;
    println!(
        "session {} (public record): {} entries, the chain links; {} ballots and {} follow-up ratings recounted, {} closed evaluation(s) equal their revealed results; chain head {}",
        r.session, checked.entries, checked.ballots, checked.item_ratings, checked.closed_evaluations, checked.head
    );
    Ok(())
}

pub(crate) fn export_record(args: &ExportRecordArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let (store, _) = open_store(&args.at.store, &args.at.data_dir).await?;
        // Never published unless it checks (`Hub::audit` recounts it).
        let audit =
            Hub::audit(&store, &args.session).await.with_context(|| format!("session {}: the record does not hold", args.session))?;
        let (public, checked) = (audit.record, audit.checked);
        std::fs::write(&args.out, public.encode()).with_context(|| format!("writing {}", args.out.display()))?;
        println!(
            "session {}: public record written to {} ({} entries, {} ballots, chain head {})",
            args.session,
            args.out.display(),
            checked.entries,
            checked.ballots,
            checked.head
        );
        Ok(())
    })
}
