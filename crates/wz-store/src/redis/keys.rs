//! Every key name of the Redis store (the layout is in the parent module's
//! documentation): the global keys, and [`Keys`], one session's.

const PREFIX: &str = "wz:v1:";
pub(super) const FORMAT_KEY: &str = "wz:v1:format";
pub(super) const FORMAT_VERSION: &str = "1";
pub(super) const SESSIONS_KEY: &str = "wz:v1:sessions";
/// Written by every health probe ([`crate::Store::ping`]); expires after a minute.
pub(super) const PROBE_KEY: &str = "wz:v1:probe";
/// Notices to every node (issue 12): a key of its own, outside any session's slot.
pub(crate) const NOTICES_KEY: &str = "wz:v1:notices";
/// Stream field holding a record's bytes.
pub(crate) const DATA_FIELD: &str = "d";

/// Keys of one session.
pub(crate) struct Keys {
    pub meta: String,
    pub log: String,
    pub(super) creds: String,
    pub(super) claims: String,
    pub(super) counters: String,
    pub(super) attachments: String,
    /// The lease: `"<token> <node>"`, with an expiry (issue 12).
    pub owner: String,
    /// The latest fencing token handed out (an integer, `INCR`).
    pub fence: String,
    /// Commands forwarded to the owner.
    pub inbox: String,
    /// The nodes' presence reports.
    pub presence: String,
    session: String,
}

impl Keys {
    pub fn of(session: &str) -> Self {
        let key = |suffix: &str| format!("{PREFIX}{{{session}}}:{suffix}");
        Self {
            meta: key("meta"),
            log: key("log"),
            creds: key("creds"),
            claims: key("claims"),
            counters: key("counters"),
            attachments: key("attachments"),
            owner: key("owner"),
            fence: key("fence"),
            inbox: key("inbox"),
            presence: key("presence"),
            session: session.to_owned(),
        }
    }

    /// Replies to forwarded commands, for node `node`.
    pub fn replies(&self, node: &str) -> String {
        format!("{PREFIX}{{{}}}:to:{node}", self.session)
    }
}
