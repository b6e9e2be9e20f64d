//! The two servers under test: how a step gets a fresh channel (our server:
//! a fresh session, created with the admin token; nchan: a fresh channel id)
//! and how a message is published (our server: the moderator's `announce`,
//! awaited until its ack; nchan: `POST /pub?id=CH`, awaited until its 201/202).

use crate::http::HttpConn;
use crate::subs::{self, Kind, Ws};
use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The longest a publish may wait for its answer.
const ACK_GUARD: Duration = Duration::from_secs(30);

/// Where subscribers of one step connect, and how to publish to them.
pub struct Channel {
    /// Path and query of the subscribers' WebSocket.
    pub sub_path: String,
    pub publisher: Publisher,
}

pub enum Publisher {
    Wenzheng { moderator: Box<Ws>, next: u64 },
    Nchan { http: HttpConn, channel: String },
}

/// A minimal session definition: announcements need nothing else.
pub fn session_toml(id: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"Fan-out benchmark\"\ntheme = \"loadgen\"\n\n\
         [[venues]]\nid = \"main\"\nname = \"Main hall\"\nkind = \"main\"\n\n\
         [[units]]\nid = \"u1\"\nname = \"Unit 1\"\n\n\
         [[topics]]\nid = \"t1\"\nname = \"Topic 1\"\n"
    )
}

/// `principal` → `token` from the answer of `POST /api/sessions`.
pub fn credentials(answer: &Value) -> anyhow::Result<(String, String)> {
    let creds = answer["credentials"]
        .as_array()
        .ok_or_else(|| anyhow!("no credentials in {answer}"))?;
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
pub async fn open(
    kind: Kind,
    server: SocketAddr,
    admin_token: Option<&str>,
    name: &str,
) -> anyhow::Result<Channel> {
    let addr = server.to_string();
    match kind {
        Kind::Wenzheng => {
            let admin =
                admin_token.ok_or_else(|| anyhow!("--admin-token is required for our server"))?;
            let mut http = HttpConn::connect(&addr).await?;
            let auth = format!("Bearer {admin}");
            let a = http
                .request(
                    "POST",
                    "/api/sessions",
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/toml"),
                    ],
                    session_toml(name).as_bytes(),
                )
                .await?;
            if a.status != 201 {
                bail!(
                    "creating session {name}: HTTP {} {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
            }
            let v: Value = serde_json::from_slice(&a.body).context("the answer is not JSON")?;
            let (screen, moderator) = credentials(&v)?;
            let ws = subs::connect_one(
                Ipv4Addr::LOCALHOST,
                server,
                &format!("/ws?token={moderator}"),
                kind,
            )
            .await
            .context("moderator")?;
            Ok(Channel {
                sub_path: format!("/ws?token={screen}"),
                publisher: Publisher::Wenzheng {
                    moderator: Box::new(ws),
                    next: 0,
                },
            })
        }
        Kind::Nchan => Ok(Channel {
            sub_path: format!("/sub?id={name}"),
            publisher: Publisher::Nchan {
                http: HttpConn::connect(&addr).await?,
                channel: name.to_owned(),
            },
        }),
    }
}

impl Publisher {
    /// Publishes `text` and waits until the server accepted it.
    pub async fn publish(&mut self, text: &str) -> anyhow::Result<()> {
        match self {
            Publisher::Wenzheng { moderator, next } => {
                *next += 1;
                let id = format!("a-{next}");
                let cmd = json!({"id": id, "type": "announce", "text": text});
                moderator
                    .send(Message::Text(cmd.to_string().into()))
                    .await
                    .context("sending announce")?;
                tokio::time::timeout(ACK_GUARD, answer(moderator, &id))
                    .await
                    .with_context(|| format!("no answer to {id} within {ACK_GUARD:?}"))?
            }
            Publisher::Nchan { http, channel } => {
                let a = http
                    .request("POST", &format!("/pub?id={channel}"), &[], text.as_bytes())
                    .await?;
                if a.status != 201 && a.status != 202 {
                    bail!(
                        "publish: HTTP {} {}",
                        a.status,
                        String::from_utf8_lossy(&a.body)
                    );
                }
                Ok(())
            }
        }
    }

    /// nchan: the channel's subscriber count (`GET /pub?id=CH`, JSON).
    /// Our server: `None` (the snapshot each screen waited for says enough).
    pub async fn subscribers(&mut self) -> anyhow::Result<Option<u64>> {
        match self {
            Publisher::Wenzheng { .. } => Ok(None),
            Publisher::Nchan { http, channel } => {
                let a = http
                    .request(
                        "GET",
                        &format!("/pub?id={channel}"),
                        &[("Accept", "application/json")],
                        b"",
                    )
                    .await?;
                if a.status == 404 {
                    return Ok(Some(0));
                }
                let v: Value = serde_json::from_slice(&a.body).with_context(|| {
                    format!("channel info: {}", String::from_utf8_lossy(&a.body))
                })?;
                Ok(v["subscribers"].as_u64())
            }
        }
    }
}

/// Reads the moderator's frames until the ack (or error) of `id`.
async fn answer(ws: &mut Ws, id: &str) -> anyhow::Result<()> {
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
                    bail!("announce {id} refused: {t}");
                }
                return Ok(());
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
        let def = wz_protocol::definition::SessionDefinition::from_toml(&session_toml("fan-1"))
            .unwrap()
            .into_domain()
            .unwrap();
        assert_eq!(def.id, "fan-1");
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
