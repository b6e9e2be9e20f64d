//! What hub nodes tell each other through the store (issue 12): a command
//! forwarded to a session's owner, its answer, and the notices every node
//! hears. Never seen by a client; the store keeps them for seconds (a
//! forwarded command is answered or given up within its deadline).
//!
//! Identity travels as the principal key the forwarding node authenticated
//! (`delegate:d017`): nodes trust each other, as they trust the store. A
//! client's message is forwarded as it came (its id included), so the owner
//! answers a retry with the original ack, whichever node it came through.

use crate::assignment::FileKind;
use crate::client::ClientMessage;
use crate::dto::DelegateDto;
use crate::server::{AckDto, ErrorDto};
use serde::{Deserialize, Serialize};
use wz_domain as d;
use wz_domain::assignment as a;

/// A command on its way to the session's owner.
#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    /// The node the client is connected to, which the answer goes back to.
    pub node: String,
    /// That node's number for the request.
    pub req: u64,
    /// Who issues it: the principal key of the authenticated connection.
    pub by: String,
    pub command: Forwarded,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Forwarded {
    /// A client's message, as it came over its WebSocket.
    Client(ClientMessage),
    /// A command from a REST endpoint (a delegates import, an evidence file),
    /// with a command id the forwarding node made unique: the owner records
    /// it, so a command the inbox hands out twice (to an old and a new
    /// owner) is answered, not run twice.
    Direct { id: String, command: d::Command },
}

#[derive(Serialize, Deserialize)]
struct ForwardDto {
    node: String,
    req: u64,
    by: String,
    #[serde(flatten)]
    command: ForwardedDto,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ForwardedDto {
    Client { message: ClientMessage },
    ImportDelegates { id: String, delegates: Vec<DelegateDto> },
    AddEvidence { id: String, item: u32, file: String, name: String, file_kind: FileKind, bytes: u64 },
}

/// The bytes of a forwarded command; `None` for a direct command that no
/// REST endpoint issues (it cannot be forwarded).
pub fn encode_forward(f: &Forward) -> Option<Vec<u8>> {
    let command = match &f.command {
        Forwarded::Client(m) => ForwardedDto::Client { message: m.clone() },
        Forwarded::Direct { id, command: d::Command::ImportDelegates { delegates } } => {
            ForwardedDto::ImportDelegates { id: id.clone(), delegates: delegates.iter().map(crate::definition::delegate_dto).collect() }
        }
        Forwarded::Direct { id, command: d::Command::Assignment(a::AssignmentCommand::AddEvidence { item, file }) } => {
            ForwardedDto::AddEvidence {
                id: id.clone(),
                item: item.0,
                file: file.id.clone(),
                name: file.name.clone(),
                file_kind: file.kind.into(),
                bytes: file.bytes,
            }
        }
        Forwarded::Direct { .. } => return None,
    };
    let dto = ForwardDto { node: f.node.clone(), req: f.req, by: f.by.clone(), command };
    Some(serde_json::to_vec(&dto).expect("forwarded commands always serialise"))
}

pub fn decode_forward(bytes: &[u8]) -> Result<Forward, String> {
    let dto: ForwardDto = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let command = match dto.command {
        ForwardedDto::Client { message } => Forwarded::Client(message),
        ForwardedDto::ImportDelegates { id, delegates } => Forwarded::Direct {
            id,
            command: d::Command::ImportDelegates { delegates: crate::definition::delegates_into_domain(delegates) },
        },
        ForwardedDto::AddEvidence { id, item, file, name, file_kind, bytes } => Forwarded::Direct {
            id,
            command: d::Command::Assignment(a::AssignmentCommand::AddEvidence {
                item: a::ItemId(item),
                file: a::NewFile { id: file, name, kind: file_kind.into(), bytes },
            }),
        },
    };
    Ok(Forward { node: dto.node, req: dto.req, by: dto.by, command })
}

/// The owner's answer to a forwarded command.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub req: u64,
    pub result: Result<AckDto, ErrorDto>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeDto {
    Ack(AckDto),
    Error(ErrorDto),
}

#[derive(Serialize, Deserialize)]
struct ReplyDto {
    req: u64,
    #[serde(flatten)]
    outcome: OutcomeDto,
}

pub fn encode_reply(r: &Reply) -> Vec<u8> {
    let outcome = match &r.result {
        Ok(a) => OutcomeDto::Ack(a.clone()),
        Err(e) => OutcomeDto::Error(e.clone()),
    };
    serde_json::to_vec(&ReplyDto { req: r.req, outcome }).expect("replies always serialise")
}

pub fn decode_reply(bytes: &[u8]) -> Result<Reply, String> {
    let dto: ReplyDto = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let result = match dto.outcome {
        OutcomeDto::Ack(a) => Ok(a),
        OutcomeDto::Error(e) => Err(e),
    };
    Ok(Reply { req: dto.req, result })
}

/// Something every node must hear: what lives outside a session's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// These participants' credentials were issued (a new session, a
    /// delegates import, a reissue): read them back (the whole session when
    /// it is new here), and close connections that used the old ones.
    Credentials { node: String, session: String, keys: Vec<String> },
}

impl Notice {
    /// The node that sent it (it does not act on its own notices).
    pub fn node(&self) -> &str {
        match self {
            Notice::Credentials { node, .. } => node,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("notices always serialise")
    }

    pub fn decode(bytes: &[u8]) -> Result<Notice, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// What one node sees of the venues: its open connections per venue and
/// the last message from each (the venue board sums the nodes' reports).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub node: String,
    /// Venue id → open connections of its station and delegates on that node.
    pub connections: std::collections::BTreeMap<String, u32>,
    /// Venue id → the last message from one of its clients (Unix ms).
    pub last_seen: std::collections::BTreeMap<String, u64>,
}

impl Presence {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("presence always serialises")
    }

    pub fn decode(bytes: &[u8]) -> Result<Presence, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CommandDto;

    #[test]
    fn forwarded_commands_replies_and_notices_round_trip() {
        let client = Forward {
            node: "n1".into(),
            req: 7,
            by: "delegate:d001".into(),
            command: Forwarded::Client(ClientMessage { id: "c1".into(), command: CommandDto::RequestCheckIn }),
        };
        assert_eq!(decode_forward(&encode_forward(&client).unwrap()).unwrap(), client);
        let delegate = d::Delegate {
            id: d::DelegateId::new("d9"),
            name: "九".into(),
            level: d::DelegateLevel::ALL[0],
            venue: d::VenueId::new("main"),
        };
        let import = Forward {
            command: Forwarded::Direct { id: "fwd-1".into(), command: d::Command::ImportDelegates { delegates: vec![delegate] } },
            ..client.clone()
        };
        assert_eq!(decode_forward(&encode_forward(&import).unwrap()).unwrap(), import);
        let file = a::NewFile { id: "ab".repeat(32), name: "照片.jpg".into(), kind: a::FileKind::Jpeg, bytes: 1234 };
        let evidence = Forward {
            command: Forwarded::Direct {
                id: "fwd-2".into(),
                command: d::Command::Assignment(a::AssignmentCommand::AddEvidence { item: a::ItemId(3), file }),
            },
            ..client.clone()
        };
        assert_eq!(decode_forward(&encode_forward(&evidence).unwrap()).unwrap(), evidence);
        let other = Forward { command: Forwarded::Direct { id: "fwd-3".into(), command: d::Command::EndFloor }, ..client };
        assert_eq!(encode_forward(&other), None, "no endpoint issues it directly");

        let ack = Reply { req: 7, result: Ok(AckDto { id: "c1".into(), seq: 12, result: None }) };
        assert_eq!(decode_reply(&encode_reply(&ack)).unwrap(), ack);
        let err = Reply { req: 8, result: Err(ErrorDto::new(Some("c2".into()), crate::ErrorCode::Forbidden, "no")) };
        assert_eq!(decode_reply(&encode_reply(&err)).unwrap(), err);

        let n = Notice::Credentials { node: "n2".into(), session: "s".into(), keys: vec!["delegate:d001".into()] };
        assert_eq!(Notice::decode(&n.encode()).unwrap(), n);
        let p = Presence { node: "n3".into(), connections: [("baiyu".to_owned(), 2)].into(), last_seen: [("baiyu".to_owned(), 17)].into() };
        assert_eq!(Presence::decode(&p.encode()).unwrap(), p);
        assert!(decode_forward(b"{}").is_err() && decode_reply(b"[]").is_err() && Notice::decode(b"x").is_err());
    }
}
