//! `wenzheng backup` and `wenzheng restore` (issue 13): every session of a
//! store into one file (`wz_protocol::backup`), and back into a store.
//!
//! **Backup** reads each session as the store gives it in one read (`load`:
//! header, log, claims and counters of one moment; Redis reads the log up to
//! the length it saw then, so appends of a running server after that moment
//! are simply not in it), then its credentials and attachments (an
//! attachment is stored before the event that refers to it, so every file
//! the backed-up log names is there). It writes `<out>.partial`, fsyncs it
//! and renames it to `<out>`: a backup that exists is complete.
//!
//! **Restore** reads the whole file and checks it before it opens the
//! target; then checks the target (sessions it holds that the backup does
//! not: refused without `--force`; a session of the backup that it holds
//! with another record: refused always); then writes each session in one
//! atomic step (`Store::import_session`) and its files, and reads every
//! session back. A session the target already holds exactly as backed up
//! (a restore that was interrupted, and run again) is left as it is and only
//! its missing files are written, so running a restore twice is safe.

use crate::cli::open_store;
use crate::config::{BackupArgs, RestoreArgs, StoreKind, StoredAt};
use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use wz_hub::Hub;
use wz_protocol::backup::{BackupHeader, Item, Reader, SessionBackup, Totals, Writer};
use wz_store::{DynStore, EmbeddedStore, MemoryStore, StoredSession};

pub(crate) fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let started = Instant::now();
        let store = open_source(&args.at).await?;
        let stored = store.sessions().await?;
        let ids = if args.session.is_empty() {
            stored
        } else {
            for id in &args.session {
                ensure!(stored.contains(id), "session {id} is not stored here (stored: {})", list(&stored));
            }
            args.session.clone()
        };
        ensure!(!ids.is_empty(), "no session stored: nothing to back up");
        let partial = partial_path(&args.out);
        if args.out.exists() {
            bail!("{} exists: a backup never replaces a file; choose another name (e.g. with the date) or remove it", args.out.display());
        }
        let file = create_private(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let written = write_backup(&store, &ids, BufWriter::new(file)).await;
        let totals = match written.and_then(|(file, totals)| {
            file.sync_all().context("flushing the backup to disk")?;
            std::fs::rename(&partial, &args.out).with_context(|| format!("renaming {} to {}", partial.display(), args.out.display()))?;
            sync_dir(&args.out);
            Ok(totals)
        }) {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        println!(
            "backup written to {}: {} session(s), {} file(s) of {} bytes; {} bytes in {:.2} s. Check it with: wenzheng restore --check {}",
            args.out.display(),
            totals.sessions,
            totals.attachments,
            totals.attachment_bytes,
            totals.file_bytes,
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
        Ok(())
    })
}

/// The store a backup reads: as every offline subcommand opens it, except
/// that an embedded data directory must already hold a store.
async fn open_source(at: &StoredAt) -> anyhow::Result<DynStore> {
    if at.store.redis_url.is_none() {
        match at.store.store {
            StoreKind::Memory => bail!("the memory store keeps nothing to back up (--store memory)"),
            StoreKind::Embedded => {
                let dir = &at.data_dir;
                return match EmbeddedStore::open_existing(dir) {
                    Ok(store) => Ok(Arc::new(store)),
                    // redb is one process's file: a running server holds it.
                    Err(e) if e.to_string().contains("already open") => Err(anyhow::Error::new(e).context(format!(
                        "opening the store in {}: stop the server first, or back up a copy of a filesystem snapshot \
                         (docs/operations.md, \"Back up and restore\")",
                        dir.display()
                    ))),
                    Err(e) => Err(anyhow::Error::new(e).context(format!("opening the store in {}", dir.display()))),
                };
            }
        }
    }
    Ok(open_store(&at.store, &at.data_dir).await?.0)
}

async fn write_backup<W: std::io::Write>(store: &DynStore, ids: &[String], out: BufWriter<W>) -> anyhow::Result<(W, Totals)> {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let header = BackupHeader::new(store.kind(), env!("CARGO_PKG_VERSION"), now_ms, ids.to_vec());
    let mut w = Writer::new(out, &header)?;
    for id in ids {
        // The log first: every attachment it refers to was stored before it.
        let stored = store.load(id).await?.with_context(|| format!("session {id} is gone from the store"))?;
        let credentials = store.credentials(id).await?;
        let attachments = store.attachment_ids(id).await?;
        let s = session_backup(id, stored, credentials, attachments);
        match s.head() {
            Ok(head) => println!(
                "session {id}: {} events, {} credentials, {} file(s); chain head {head}",
                s.events.len(),
                s.credentials.len(),
                s.attachments.len()
            ),
            Err(e) => eprintln!("warning: session {id}: its record does not hold ({e}); backed up as stored, and `verify` will say so"),
        }
        w.session(&s)?;
        for a in &s.attachments {
            let data = store.attachment(id, a).await?.with_context(|| format!("session {id}: attachment {a} is gone from the store"))?;
            w.attachment(a, &data)?;
        }
    }
    let (out, totals) = w.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error()).context("writing the backup")?;
    Ok((file, totals))
}

fn session_backup(id: &str, stored: StoredSession, credentials: Vec<(String, String)>, attachments: Vec<String>) -> SessionBackup {
    SessionBackup {
        id: id.to_owned(),
        header: stored.meta.to_vec(),
        events: stored.events.iter().map(|e| e.to_vec()).collect(),
        credentials,
        claims: stored.claims,
        counters: stored.counters,
        attachments,
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// A new file only its owner may read: a backup holds the whole record
/// (who cast which ballot included) and the credentials' hashes.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Makes a rename durable (best effort: not every filesystem allows it).
fn sync_dir(file: &Path) {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
}

/// What the first pass keeps of each session: enough to compare it with a
/// target's and to report it, not its content.
struct Checked {
    digest: String,
    events: usize,
    head: Option<String>,
    attachments: Vec<String>,
}

/// Reads the whole file and checks every line of it.
fn check_file(file: &Path) -> anyhow::Result<(BackupHeader, BTreeMap<String, Checked>, Totals)> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = Reader::open(BufReader::new(f)).with_context(|| format!("{} cannot be restored", file.display()))?;
    let mut sessions = BTreeMap::new();
    while let Some(item) = reader.next_item().with_context(|| format!("{} cannot be restored", file.display()))? {
        if let Item::Session(s) = item {
            let checked = Checked {
                digest: s.digest(),
                events: s.events.len(),
                head: s.head().ok().map(|h| h.hex()),
                attachments: s.attachments.clone(),
            };
            sessions.insert(s.id, checked);
        }
    }
    Ok((reader.header().clone(), sessions, reader.totals()))
}

pub(crate) fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // The whole file is checked before any store is opened: a file that is
    // cut off, damaged or of another version writes nothing anywhere.
    let (header, sessions, totals) = check_file(&args.file)?;
    println!(
        "{}: backup of {} session(s) from the {} store, made {} by wenzheng {}; {} file(s); the file checks",
        args.file.display(),
        sessions.len(),
        header.source,
        header.created_at,
        header.wenzheng,
        totals.attachments
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.check {
        return rt.block_on(check_in_memory(&args.file));
    }
    rt.block_on(async {
        if args.at.store.redis_url.is_none() && args.at.store.store == StoreKind::Memory {
            bail!("restoring into the memory store keeps nothing; to check a backup use --check");
        }
        let (store, problems) = open_store(&args.at.store, &args.at.data_dir).await?;
        for p in &problems {
            eprintln!("warning: {p}");
        }
        let present = store.sessions().await?;
        let others: Vec<String> = present.iter().filter(|id| !sessions.contains_key(*id)).cloned().collect();
        if !others.is_empty() && !args.force {
            bail!(
                "the target store already holds other sessions ({}): restore writes into an empty store; \
                 to restore next to them, pass --force (they are kept). Nothing was written",
                list(&others)
            );
        }
        let mut done = BTreeSet::new();
        let mut differ = Vec::new();
        for id in present.iter().filter(|id| sessions.contains_key(*id)) {
            if held_digest(&store, id, &sessions[id].attachments).await? == sessions[id].digest {
                done.insert(id.clone());
            } else {
                differ.push(id.clone());
            }
        }
        if !differ.is_empty() {
            bail!(
                "the target store holds session(s) {} with another record than the backup's; restore never overwrites a \
                 stored session (not even with --force): restore into an empty store (another --data-dir, or an empty Redis \
                 database). Nothing was written",
                list(&differ)
            );
        }
        let written = write_store(&store, &args.file, &done).await?;
        // Read back: what the store now holds is what the backup held.
        for (id, c) in &sessions {
            ensure!(
                held_digest(&store, id, &c.attachments).await? == c.digest,
                "session {id}: the store does not read back what was restored; do not use it"
            );
            let held: BTreeSet<String> = store.attachment_ids(id).await?.into_iter().collect();
            ensure!(c.attachments.iter().all(|a| held.contains(a)), "session {id}: files are missing after the restore");
        }
        for (id, c) in &sessions {
            let state = if done.contains(id) { "was already there, as backed up" } else { "restored" };
            let head = c.head.as_deref().unwrap_or("none (its record does not hold)");
            println!("session {id}: {state}; {} events, {} file(s); chain head {head}", c.events, c.attachments.len());
        }
        let at = match &args.at.store.redis_url {
            Some(_) => "--redis-url …".to_owned(),
            None => format!("--data-dir {}", args.at.data_dir.display()),
        };
        println!(
            "restored into the {} store: {} session(s) written, {} file(s) written, in {:.2} s. Check it with: wenzheng verify {at} \
             (and --session <id> --expect-head <head> against a head published elsewhere)",
            store.kind(),
            written.0,
            written.1,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}

/// The digest of what `store` holds of session `id` with the backup's
/// `attachments` listed: the backup's digest when the two are the same (a
/// restore that stopped half-way may have written only some of the files,
/// which the second pass completes).
async fn held_digest(store: &DynStore, id: &str, attachments: &[String]) -> anyhow::Result<String> {
    let stored = store.load(id).await?.with_context(|| format!("session {id} is listed but cannot be read"))?;
    let credentials = store.credentials(id).await?;
    Ok(session_backup(id, stored, credentials, attachments.to_vec()).digest())
}

/// The second pass: writes every session not in `done`, and every file.
/// Returns the sessions and files written.
async fn write_store(store: &DynStore, file: &Path, done: &BTreeSet<String>) -> anyhow::Result<(usize, usize)> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = Reader::open(BufReader::new(f))?;
    let (mut sessions, mut files) = (0, 0);
    while let Some(item) = reader.next_item().context("the backup changed while it was being restored")? {
        match item {
            Item::Session(s) if done.contains(&s.id) => {}
            Item::Session(s) => {
                let id = s.id.clone();
                let (stored, credentials) = into_stored(s);
                store.import_session(&id, stored, credentials).await.with_context(|| format!("restoring session {id}"))?;
                sessions += 1;
            }
            Item::Attachment { session, id, data } => {
                if store.attachment(&session, &id).await?.is_none() {
                    store
                        .put_attachment(&session, &id, Bytes::from(data))
                        .await
                        .with_context(|| format!("session {session}: file {id}"))?;
                    files += 1;
                }
            }
        }
    }
    Ok((sessions, files))
}

fn into_stored(s: SessionBackup) -> (StoredSession, Vec<(String, String)>) {
    let stored = StoredSession {
        meta: Bytes::from(s.header),
        events: s.events.into_iter().map(Bytes::from).collect(),
        claims: s.claims,
        counters: s.counters,
    };
    (stored, s.credentials)
}

/// `restore --check`: the sessions restored into memory (without their
/// files) and audited as `verify` audits a store.
async fn check_in_memory(file: &Path) -> anyhow::Result<()> {
    let store: DynStore = Arc::new(MemoryStore::new());
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = Reader::open(BufReader::new(f))?;
    let mut ids = Vec::new();
    while let Some(item) = reader.next_item()? {
        if let Item::Session(s) = item {
            let id = s.id.clone();
            let (stored, credentials) = into_stored(s);
            store.import_session(&id, stored, credentials).await?;
            ids.push(id);
        }
    }
    let mut failed = Vec::new();
    for id in &ids {
        match Hub::audit(&store, id).await {
            Ok(audit) if audit.report.problems.is_empty() => println!(
                "session {id}: {} events, the record holds; {} ballots and {} follow-up ratings recounted; chain head {}",
                audit.report.events, audit.checked.ballots, audit.checked.item_ratings, audit.report.head
            ),
            Ok(audit) => {
                println!("session {id}: the stored tallies disagree with the log: {}", audit.report.problems[0]);
                failed.push(id.clone());
            }
            Err(e) => {
                println!("session {id}: the record does not hold: {e}");
                failed.push(id.clone());
            }
        }
    }
    let _ = std::io::stdout().flush();
    ensure!(failed.is_empty(), "the backup is complete, but the record of {} does not hold", list(&failed));
    println!("the backup is complete and every session's record holds");
    Ok(())
}
