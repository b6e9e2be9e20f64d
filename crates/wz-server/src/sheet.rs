//! Credential sheets: the one place where freshly issued tokens are written.
//!
//! Tokens exist only at issue time (the store keeps hashes), so when a
//! session is created the server writes its join links to
//! `<data-dir>/credentials/<session>.csv` (mode 0600): the print run for the
//! participants' cards. Print it, hand the cards out, and delete it; lost
//! cards are replaced by reissuing (which revokes the old token).

use std::io::Write;
use std::path::{Path, PathBuf};
use wz_hub::{Credential, PrincipalKey};

/// The page a participant opens, with the token in the fragment so it never
/// reaches a server log.
pub fn link(base: &str, key: &PrincipalKey, token: &str) -> String {
    let page = match key {
        PrincipalKey::Moderator | PrincipalKey::Auditor => "moderator.html",
        PrincipalKey::Screen => "screen.html",
        PrincipalKey::Operator(_) | PrincipalKey::Delegate(_) => "delegate.html",
        PrincipalKey::Office => "office.html",
        PrincipalKey::Unit(_) => "unit.html",
    };
    format!("{base}/{page}#token={token}")
}

pub fn path(data_dir: &Path, session: &str) -> PathBuf {
    data_dir.join("credentials").join(format!("{session}.csv"))
}

/// Appends credentials to the session's sheet (creating it with a header).
/// Reissued credentials are appended: the last line of a key wins.
pub fn append(data_dir: &Path, session: &str, names: &dyn Fn(&PrincipalKey) -> String, creds: &[Credential], base: &str) -> std::io::Result<PathBuf> {
    let p = path(data_dir, session);
    std::fs::create_dir_all(p.parent().expect("has parent"))?;
    let new = !p.exists();
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&p)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    if new {
        // A BOM so that Excel on Chinese Windows reads UTF-8, not GBK.
        f.write_all(b"\xEF\xBB\xBF")?;
        w.write_record(["principal", "name", "token", "link"]).map_err(std::io::Error::other)?;
    }
    for c in creds {
        w.write_record([c.key.to_string(), names(&c.key), c.token.clone(), link(base, &c.key, &c.token)])
            .map_err(std::io::Error::other)?;
    }
    f.write_all(&w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?)?;
    f.sync_all()?;
    Ok(p)
}

/// A sheet's rows (principal, name, token, link), the last line of each key winning.
pub fn read(path: &Path) -> std::io::Result<Vec<[String; 4]>> {
    let bytes = std::fs::read(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut rdr = csv::Reader::from_reader(bytes);
    let mut rows: Vec<[String; 4]> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(std::io::Error::other)?;
        let row = [0, 1, 2, 3].map(|i| rec.get(i).unwrap_or("").to_owned());
        rows.retain(|r| r[0] != row[0]);
        rows.push(row);
    }
    Ok(rows)
}
