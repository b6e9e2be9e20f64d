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
    format!("{base}/{}#token={token}", page(key))
}

/// The page a participant's credential belongs on.
pub fn page(key: &PrincipalKey) -> &'static str {
    match key {
        PrincipalKey::Moderator | PrincipalKey::Auditor => "moderator.html",
        PrincipalKey::Screen => "screen.html",
        PrincipalKey::Operator(_) | PrincipalKey::Delegate(_) => "delegate.html",
        PrincipalKey::Office => "office.html",
        PrincipalKey::Unit(_) => "unit.html",
    }
}

pub fn path(data_dir: &Path, session: &str) -> PathBuf {
    data_dir.join("credentials").join(format!("{session}.csv"))
}

/// Who a credential belongs to, as the sheet and the cards print it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who {
    pub name: String,
    /// The venue's id, for operators and delegates (empty otherwise).
    pub venue: String,
    pub venue_name: String,
}

/// Who `k` is in session `s` (delegates imported after the start included).
pub fn who(s: &wz_domain::Session, k: &PrincipalKey) -> Who {
    let def = s.def();
    let venue = |v: &wz_domain::VenueId| (v.0.clone(), def.venue(v).map(|x| x.name.clone()).unwrap_or_default());
    let (name, (venue, venue_name)) = match k {
        PrincipalKey::Moderator => ("主持人 moderator".into(), Default::default()),
        PrincipalKey::Auditor => ("审计 auditor".into(), Default::default()),
        PrincipalKey::Screen => ("大屏 public screen".into(), Default::default()),
        PrincipalKey::Operator(v) => (def.venue(v).map(|x| format!("{} 联络员", x.name)).unwrap_or_default(), venue(v)),
        PrincipalKey::Delegate(d) => match s.delegate(d) {
            Some(x) => (x.name.clone(), venue(&x.venue)),
            None => (String::new(), Default::default()),
        },
        PrincipalKey::Office => ("人大办 congress office".into(), Default::default()),
        PrincipalKey::Unit(u) => (def.units.iter().find(|x| &x.id == u).map(|x| x.name.clone()).unwrap_or_default(), Default::default()),
    };
    Who { name, venue, venue_name }
}

/// The sheet's columns; `venue`, `venue_name` and `code` (the short join
/// code) were added in issue 10 (older sheets have four, and are still read:
/// the code is derived from the token).
pub const HEADER: [&str; 7] = ["principal", "name", "token", "link", "venue", "venue_name", "code"];

/// Does row `r` match a `links`/`cards` filter: its principal, name or venue (id or name)?
pub fn matches(r: &[String; 7], filter: &str) -> bool {
    [0, 1, 4, 5].iter().any(|&i| r[i].contains(filter))
}

/// Appends credentials to the session's sheet (creating it with a header).
/// Reissued credentials are appended: the last line of a key wins.
pub fn append(
    data_dir: &Path,
    session: &str,
    who: &dyn Fn(&PrincipalKey) -> Who,
    creds: &[Credential],
    base: &str,
) -> std::io::Result<PathBuf> {
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
        w.write_record(HEADER).map_err(std::io::Error::other)?;
    }
    for c in creds {
        let w2 = who(&c.key);
        w.write_record([
            c.key.to_string(),
            w2.name,
            c.token.clone(),
            link(base, &c.key, &c.token),
            w2.venue,
            w2.venue_name,
            c.code().to_string(),
        ])
        .map_err(std::io::Error::other)?;
    }
    f.write_all(&w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?)?;
    f.sync_all()?;
    Ok(p)
}

/// A sheet's rows (principal, name, token, link, venue, venue_name, code),
/// the last line of each key winning.
pub fn read(path: &Path) -> std::io::Result<Vec<[String; 7]>> {
    let bytes = std::fs::read(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // Flexible: a sheet written before the venue columns has four.
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let mut rows: Vec<[String; 7]> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(std::io::Error::other)?;
        let mut row = [0, 1, 2, 3, 4, 5, 6].map(|i| rec.get(i).unwrap_or("").to_owned());
        if row[6].is_empty() && !row[2].is_empty() {
            row[6] = wz_hub::JoinCode::of_token(&row[2]).to_string();
        }
        rows.retain(|r| r[0] != row[0]);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_names_each_venue_filters_by_it_and_still_reads_an_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "s");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // A sheet of before the venue columns, then rows appended now.
        std::fs::write(&p, "\u{feff}principal,name,token,link\nmoderator,主持人 moderator,t0,l0\n").unwrap();
        let creds = [
            Credential { key: PrincipalKey::Operator(wz_domain::VenueId::new("baiyu")), token: "t1".into() },
            Credential { key: PrincipalKey::Delegate(wz_domain::DelegateId::new("d002")), token: "t2".into() },
        ];
        let who = |k: &PrincipalKey| match k {
            PrincipalKey::Operator(_) => {
                Who { name: "白羽街道 联络员".into(), venue: "baiyu".into(), venue_name: "白羽街道".into() }
            }
            _ => Who { name: "钱秀英".into(), venue: "baiyu".into(), venue_name: "白羽街道".into() },
        };
        append(dir.path(), "s", &who, &creds, "http://x").unwrap();
        let rows = read(&p).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0][4], "", "an old row has no venue");
        assert_eq!(rows[0][6], wz_hub::JoinCode::of_token("t0").to_string(), "an old row's code comes from its token");
        assert_eq!(rows[2][6], creds[1].code().to_string());
        let baiyu: Vec<&str> = rows.iter().filter(|r| matches(r, "baiyu")).map(|r| r[0].as_str()).collect();
        assert_eq!(baiyu, ["operator:baiyu", "delegate:d002"], "the filter finds everyone of the venue");
        assert_eq!(rows.iter().filter(|r| matches(r, "白羽街道")).count(), 2);
    }
}
