//! The two servers under test: how a step gets a fresh channel (our server:
//! a fresh session, created with the admin token; nchan: a fresh channel id)
//! and how a message is published (our server: the moderator's `announce`,
//! awaited until its ack; nchan: `POST /pub?id=CH`, awaited until its 201/202).
//!
//! An announcement holds at most 200 characters. For a larger payload our
//! publisher edits the text of one approved (public) question instead
//! (`edit_question`; the session's `question_chars` is raised to fit): the
//! other broadcast event a moderator sends with one command.

use crate::http::HttpConn;
use crate::subs::{self, Kind, Ws};
use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The longest a publish may wait for its answer.
const ACK_GUARD: Duration = Duration::from_secs(30);

/// The longest announcement (characters; our payloads are ASCII).
pub const MAX_ANNOUNCEMENT: usize = 200;

/// Where subscribers of one step connect, and how to publish to them.
pub struct Channel {
    /// Path and query of the subscribers' WebSocket.
    pub sub_path: String,
    pub publisher: Publisher,
    /// Our server: the session's epoch (from the moderator's snapshot).
    pub epoch: Option<String>,
}

/// What our moderator sends to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Announce,
    /// `edit_question` of this approved question.
    EditQuestion(u32),
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Announce => "announce",
            Command::EditQuestion(_) => "edit_question",
        }
    }
}

pub enum Publisher {
    Wenzheng { moderator: Box<Ws>, next: u64, command: Command },
    Nchan { http: HttpConn, channel: String },
}

/// What the server answered to a publish.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Our server: the ack's `seq`.
    pub seq: Option<u64>,
    /// nchan: the message's id (`last message id` of the answer), which a
    /// subscriber passes as `last_event_id` to get what follows it.
    pub id: Option<String>,
}

/// A minimal session definition: announcements need nothing else. With
/// `question_chars`, also one delegate (to ask the question that is edited)
/// and the limits, the question's raised to that.
pub fn session_toml(id: &str, question_chars: Option<usize>) -> String {
    let mut s = format!(
        "id = \"{id}\"\ntitle = \"Fan-out benchmark\"\ntheme = \"loadgen\"\n\n\
         [[venues]]\nid = \"main\"\nname = \"Main hall\"\nkind = \"main\"\n\n\
         [[units]]\nid = \"u1\"\nname = \"Unit 1\"\n\n\
         [[topics]]\nid = \"t1\"\nname = \"Topic 1\"\n"
    );
    if let Some(chars) = question_chars {
        s.push_str(&format!(
            "\n[[delegates]]\nid = \"d1\"\nname = \"Delegate 1\"\nlevel = \"county\"\nvenue = \"main\"\n\n\
             [limits]\nquestion_chars = {}\nreason_chars = 200\nanswer_chars = 4000\nshort_chars = 100\n\
             questions_per_delegate = 64\nfollow_ups_per_item = 20\ncommitments_per_answer = 20\n\
             answer_seconds = 300\nmax_answer_seconds = 3600\n",
            chars.max(500)
        ));
    }
    s
}

/// The id of the message an nchan publish answer names (`last message id:`
/// in the text answer, `"last_message_id"` in the JSON one).
pub fn nchan_message_id(body: &str) -> Option<String> {
    if let Some(rest) = body.split("last message id:").nth(1) {
        return rest.split_whitespace().next().map(str::to_owned);
    }
    let v: Value = serde_json::from_str(body).ok()?;
    v["last_message_id"].as_str().map(str::to_owned)
}

/// `principal` → `token` from the answer of `POST /api/sessions`.
pub fn credentials(answer: &Value) -> anyhow::Result<(String, String)> {
    let creds = answer["credentials"].as_array().ok_or_else(|| anyhow!("no credentials in {answer}"))?;
    let token = |who: &str| {
        creds
            .iter()
            .find(|c| c["principal"] == who)
            .and_then(|c| c["token"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no {who} credential in the answer"))
    };
    Ok((token("screen")?, token("moderator")?))
}

/// Prepares a fresh channel named `name` on the server under test.
pub async fn open(kind: Kind, server: SocketAddr, admin_token: Option<&str>, name: &str, payload: usize) -> anyhow::Result<Channel> {
    let addr = server.to_string();
    match kind {
        Kind::Wenzheng => {
            let admin = admin_token.ok_or_else(|| anyhow!("--admin-token is required for our server"))?;
            let mut http = HttpConn::connect(&addr).await?;
            let auth = format!("Bearer {admin}");
            let a = http
                .request(
                    "POST",
                    "/api/sessions",
                    &[("Authorization", &auth), ("Content-Type", "application/toml")],
                    session_toml(name, (payload > MAX_ANNOUNCEMENT).then_some(payload)).as_bytes(),
                )
                .await?;
            if a.status != 201 {
                bail!("creating session {name}: HTTP {} {}", a.status, String::from_utf8_lossy(&a.body));
            }
            let v: Value = serde_json::from_slice(&a.body).context("the answer is not JSON")?;
            let (screen, moderator) = credentials(&v)?;
            let (ws, position) =
                subs::connect_one(Ipv4Addr::LOCALHOST, server, &format!("/ws?token={moderator}"), kind).await.context("moderator")?;
            let mut moderator = Box::new(ws);
            let command = if payload > MAX_ANNOUNCEMENT {
                // One public question, asked and approved before anyone subscribes.
                let ask = json!({"id": "q-ask", "type": "submit_question", "on_behalf_of": "d1",
                                 "topic": "t1", "unit": "u1", "text": "Fan-out benchmark question"});
                let ack = command(&mut moderator, "q-ask", ask).await?;
                let q = ack["result"]["question"].as_u64().ok_or_else(|| anyhow!("no question id in {ack}"))? as u32;
                let approve = json!({"id": "q-approve", "type": "approve_question", "question": q});
                command(&mut moderator, "q-approve", approve).await?;
                Command::EditQuestion(q)
            } else {
                Command::Announce
            };
            Ok(Channel {
                sub_path: format!("/ws?token={screen}"),
                publisher: Publisher::Wenzheng { moderator, next: 0, command },
                epoch: position.map(|p| p.epoch),
            })
        }
        Kind::Nchan => Ok(Channel {
            sub_path: format!("/sub?id={name}"),
            publisher: Publisher::Nchan { http: HttpConn::connect(&addr).await?, channel: name.to_owned() },
            epoch: None,
        }),
    }
}

/// Sends one command and waits for its ack.
async fn command(ws: &mut Ws, id: &str, cmd: Value) -> anyhow::Result<Value> {
    ws.send(Message::Text(cmd.to_string().into())).await.with_context(|| format!("sending {id}"))?;
    tokio::time::timeout(ACK_GUARD, answer(ws, id)).await.with_context(|| format!("no answer to {id} within {ACK_GUARD:?}"))?
}

impl Publisher {
    /// Publishes `text` and waits until the server accepted it.
    pub async fn publish(&mut self, text: &str) -> anyhow::Result<Published> {
        let mut once = Some(text.to_owned());
        self.publish_burst(1, |_| once.take().unwrap_or_default()).await
    }

    /// Publishes `k` messages back to back, `make(i)` (i = 0, 1, …) building
    /// each just before it is sent: our moderator sends the `k` commands
    /// without waiting (pipelined) and then waits for their acks in order;
    /// nchan's publisher `POST`s them one after the other, each as soon as
    /// the previous one is answered. Returns the last answer.
    pub async fn publish_burst(&mut self, k: u64, mut make: impl FnMut(u64) -> String) -> anyhow::Result<Published> {
        match self {
            Publisher::Wenzheng { moderator, next, command } => {
                let first = *next + 1;
                for _ in 0..k {
                    *next += 1;
                    let id = format!("a-{next}");
                    let text = make(*next - first);
                    let cmd = match *command {
                        Command::Announce => json!({"id": id, "type": "announce", "text": text}),
                        Command::EditQuestion(q) => {
                            json!({"id": id, "type": "edit_question", "question": q, "text": text})
                        }
                    };
                    moderator.send(Message::Text(cmd.to_string().into())).await.with_context(|| format!("sending {}", command.name()))?;
                }
                let mut last = Published::default();
                for n in first..=*next {
                    let id = format!("a-{n}");
                    let ack = tokio::time::timeout(ACK_GUARD, answer(moderator, &id))
                        .await
                        .with_context(|| format!("no answer to {id} within {ACK_GUARD:?}"))??;
                    last.seq = ack["seq"].as_u64();
                }
                Ok(last)
            }
            Publisher::Nchan { http, channel } => {
                let mut last = Published::default();
                for i in 0..k {
                    let text = make(i);
                    let a = http.request("POST", &format!("/pub?id={channel}"), &[], text.as_bytes()).await?;
                    if a.status != 201 && a.status != 202 {
                        bail!("publish: HTTP {} {}", a.status, String::from_utf8_lossy(&a.body));
                    }
                    last.id = nchan_message_id(&String::from_utf8_lossy(&a.body));
                }
                Ok(last)
            }
        }
    }

    /// Makes what a new subscriber receives first at least `bytes` long,
    /// before anyone subscribes (the `large` scenario). Our server: approved
    /// questions whose texts fill it, `chunk` characters each (a screen's
    /// snapshot carries the texts of questions not yet settled; the session
    /// must allow `chunk` characters, see [`session_toml`]); nchan: one
    /// message of `bytes`, which `/sub-oldest` hands every new subscriber.
    pub async fn preload(&mut self, bytes: usize, chunk: usize) -> anyhow::Result<()> {
        let text = |n: usize| -> String { "Large snapshot text. ".chars().cycle().take(n).collect() };
        match self {
            Publisher::Wenzheng { moderator, command: what, .. } => {
                let Command::EditQuestion(first) = *what else {
                    bail!("preload needs a session whose questions hold {chunk} characters");
                };
                let edit = json!({"id": "p-0", "type": "edit_question", "question": first, "text": text(chunk)});
                command(moderator, "p-0", edit).await?;
                let mut filled = chunk;
                let mut i = 0;
                while filled < bytes {
                    i += 1;
                    let (ask_id, ok_id) = (format!("p-ask-{i}"), format!("p-ok-{i}"));
                    let ask = json!({"id": ask_id, "type": "submit_question", "on_behalf_of": "d1",
                                     "topic": "t1", "unit": "u1", "text": text(chunk)});
                    let ack = command(moderator, &ask_id, ask).await?;
                    let q = ack["result"]["question"].as_u64().ok_or_else(|| anyhow!("no question id in {ack}"))?;
                    let approve = json!({"id": ok_id, "type": "approve_question", "question": q});
                    command(moderator, &ok_id, approve).await?;
                    filled += chunk;
                }
                Ok(())
            }
            Publisher::Nchan { http, channel } => {
                let a = http.request("POST", &format!("/pub?id={channel}"), &[], text(bytes).as_bytes()).await?;
                if a.status != 201 && a.status != 202 {
                    bail!("preload: HTTP {} {}", a.status, String::from_utf8_lossy(&a.body));
                }
                Ok(())
            }
        }
    }

    /// What our moderator sends to publish (`None`: nchan).
    pub fn command(&self) -> Option<Command> {
        match self {
            Publisher::Wenzheng { command, .. } => Some(*command),
            Publisher::Nchan { .. } => None,
        }
    }

    /// Waits until nchan's channel counts `n` subscribers (at most 10 s) and
    /// returns the count it last read; our server: `n` at once (the snapshot
    /// each screen waited for says enough).
    pub async fn count_subscribers(&mut self, n: usize) -> anyhow::Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.subscribers().await? {
                None => return Ok(n as u64),
                Some(c) if c as usize == n || Instant::now() > deadline => return Ok(c),
                Some(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// nchan: the channel's subscriber count (`GET /pub?id=CH`, JSON).
    /// Our server: `None` (the snapshot each screen waited for says enough).
    pub async fn subscribers(&mut self) -> anyhow::Result<Option<u64>> {
        match self {
            Publisher::Wenzheng { .. } => Ok(None),
            Publisher::Nchan { http, channel } => {
                let a = http.request("GET", &format!("/pub?id={channel}"), &[("Accept", "application/json")], b"").await?;
                if a.status == 404 {
                    return Ok(Some(0));
                }
                let v: Value =
                    serde_json::from_slice(&a.body).with_context(|| format!("channel info: {}", String::from_utf8_lossy(&a.body)))?;
                Ok(v["subscribers"].as_u64())
            }
        }
    }
}

/// Reads the moderator's frames until the ack (or error) of `id`; returns
/// the ack.
async fn answer(ws: &mut Ws, id: &str) -> anyhow::Result<Value> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let ack = t.starts_with(r#"{"type":"ack""#);
                if !ack && !t.starts_with(r#"{"type":"error""#) {
                    continue;
                }
                let v: Value = serde_json::from_str(&t)?;
                if v["id"] != id {
                    bail!("answer to another command while waiting for {id}: {t}");
                }
                if !ack {
                    bail!("command {id} refused: {t}");
                }
                return Ok(v);
            }
            Some(Ok(Message::Close(f))) => bail!("moderator closed: {f:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("moderator read error: {e}"),
            None => bail!("moderator connection ended"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_valid() {
        let def = wz_protocol::definition::SessionDefinition::from_toml(&session_toml("fan-1", None)).unwrap().into_domain().unwrap();
        assert_eq!(def.id, "fan-1");
        assert!(def.delegates.is_empty());
        let big = session_toml("fan-2", Some(2048));
        let def = wz_protocol::definition::SessionDefinition::from_toml(&big).unwrap().into_domain().unwrap();
        assert_eq!((def.delegates.len(), def.limits.question_chars), (1, 2048));
        let small = session_toml("fan-3", Some(300));
        let def = wz_protocol::definition::SessionDefinition::from_toml(&small).unwrap().into_domain().unwrap();
        assert_eq!(def.limits.question_chars, 500, "never below the default");
    }

    #[test]
    fn reads_nchan_message_ids() {
        let text = "queued messages: 1\r\nlast requested: -1 sec. ago\r\nactive subscribers: 0\r\nlast message id: 1796497335:0";
        assert_eq!(nchan_message_id(text).as_deref(), Some("1796497335:0"));
        let json = r#"{"messages": 2, "requested": -1, "subscribers": 0, "last_message_id": "1796497335:1" }"#;
        assert_eq!(nchan_message_id(json).as_deref(), Some("1796497335:1"));
        assert_eq!(nchan_message_id("nothing"), None);
    }

    #[test]
    fn reads_credentials() {
        let v = json!({"session": "s", "credentials": [
            {"principal": "moderator", "token": "m", "code": "x", "link": "l"},
            {"principal": "screen", "token": "s", "code": "y", "link": "l"}]});
        assert_eq!(credentials(&v).unwrap(), ("s".into(), "m".into()));
        assert!(credentials(&json!({"credentials": []})).is_err());
    }
}
