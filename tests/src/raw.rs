//! A raw WebSocket client for protocol tests.
//!
//! No WebSocket library sends broken frames, so this one builds them by hand:
//! any FIN, RSV, opcode, mask and payload ([`Frame`]). [`RawSocket`] does the
//! HTTP upgrade itself, writes frames or plain bytes, and reads the server's
//! frames back, reporting how the connection ended (EOF or reset).

use anyhow::{Context, bail};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CONTINUATION: u8 = 0x0;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// One frame, exactly as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// The three RSV bits, in the low bits (RSV1 = 4).
    pub rsv: u8,
    pub opcode: u8,
    /// Clients must mask; `None` sends the payload unmasked.
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A final, masked frame: what a well-behaved client sends.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Frame {
        Frame { fin: true, rsv: 0, opcode, mask: Some([0x37, 0xfa, 0x21, 0x3d]), payload: payload.into() }
    }

    pub fn text(s: &str) -> Frame {
        Frame::new(TEXT, s.as_bytes())
    }

    /// A close frame with a code and reason.
    pub fn close(code: u16, reason: &str) -> Frame {
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice(reason.as_bytes());
        Frame::new(CLOSE, p)
    }

    pub fn fin(mut self, fin: bool) -> Frame {
        self.fin = fin;
        self
    }

    pub fn rsv(mut self, rsv: u8) -> Frame {
        self.rsv = rsv;
        self
    }

    pub fn unmasked(mut self) -> Frame {
        self.mask = None;
        self
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | ((self.rsv & 0x7) << 4) | (self.opcode & 0xf)];
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= u16::MAX as usize {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        match self.mask {
            Some(m) => {
                out.extend_from_slice(&m);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
        out
    }

    /// (code, reason) of a close frame; `None` for an empty close payload.
    pub fn close_code(&self) -> Option<(u16, String)> {
        (self.opcode == CLOSE && self.payload.len() >= 2)
            .then(|| (u16::from_be_bytes([self.payload[0], self.payload[1]]), String::from_utf8_lossy(&self.payload[2..]).into_owned()))
    }
}

/// How reading ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The server closed the TCP connection (FIN).
    Eof,
    /// The connection was reset.
    Reset,
}

/// An upgraded connection; [`split`](RawSocket::split) it to write and read
/// at the same time.
pub struct RawSocket {
    reader: RawReader,
    writer: RawWriter,
}

pub struct RawReader {
    stream: OwnedReadHalf,
    buf: Vec<u8>,
    /// The fragments of a data message read so far (see `read_message`).
    partial: Option<Frame>,
}

pub struct RawWriter {
    stream: OwnedWriteHalf,
}

impl RawSocket {
    /// Connects and upgrades to `/ws?token=…`.
    pub async fn connect(addr: &str, token: &str) -> anyhow::Result<RawSocket> {
        Self::connect_with(addr, &format!("token={token}"), None).await
    }

    /// Like [`connect`](Self::connect), with the whole query (`token=…&since=…`)
    /// and the socket's receive buffer set before connecting (a small one
    /// makes a client that stops reading stall the server's writes quickly).
    pub async fn connect_with(addr: &str, query: &str, recv_buffer: Option<u32>) -> anyhow::Result<RawSocket> {
        let sa: std::net::SocketAddr = addr.parse().context("address")?;
        let socket = if sa.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        if let Some(n) = recv_buffer {
            socket.set_recv_buffer_size(n)?;
        }
        let mut stream = socket.connect(sa).await?;
        let req = format!(
            "GET /ws?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("closed during the upgrade");
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            bail!("upgrade refused: {}", head.lines().next().unwrap_or(""));
        }
        buf.drain(..end);
        let (rd, wr) = stream.into_split();
        Ok(RawSocket { reader: RawReader { stream: rd, buf, partial: None }, writer: RawWriter { stream: wr } })
    }

    pub fn split(self) -> (RawReader, RawWriter) {
        (self.reader, self.writer)
    }

    pub async fn send(&mut self, f: &Frame) -> std::io::Result<()> {
        self.writer.send(f).await
    }

    pub async fn send_bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.writer.send_bytes(b).await
    }

    pub async fn read_frame(&mut self) -> Result<Frame, End> {
        self.reader.read_frame().await
    }

    pub async fn read_message(&mut self) -> Result<Frame, End> {
        self.reader.read_message().await
    }

    pub async fn until_close(&mut self, guard: Duration) -> Result<(Vec<Frame>, Frame), End> {
        self.reader.until_close(guard).await
    }

    pub async fn end(&mut self, guard: Duration) -> End {
        self.reader.end(guard).await
    }
}

impl RawWriter {
    pub async fn send(&mut self, f: &Frame) -> std::io::Result<()> {
        self.stream.write_all(&f.encode()).await
    }

    pub async fn send_bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(b).await
    }
}

impl RawReader {
    /// The next frame from the server, or how the connection ended.
    pub async fn read_frame(&mut self) -> Result<Frame, End> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Ok(frame);
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk).await {
                Ok(0) => return Err(End::Eof),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return Err(End::Reset),
            }
        }
    }

    /// The next message from the server. A data message sent as fragments
    /// (the server sends those over 4 KiB so) comes whole: one frame with
    /// the first fragment's opcode and FIN set. A control frame comes as it
    /// is, also one sent between fragments (RFC 6455 §5.4), and the message
    /// goes on at the next call.
    pub async fn read_message(&mut self) -> Result<Frame, End> {
        loop {
            let f = self.read_frame().await?;
            if f.opcode & 0x8 != 0 {
                return Ok(f);
            }
            match self.partial.take() {
                None if f.fin => return Ok(f),
                None => self.partial = Some(f),
                Some(mut whole) => {
                    whole.payload.extend_from_slice(&f.payload);
                    if f.fin {
                        whole.fin = true;
                        return Ok(whole);
                    }
                    self.partial = Some(whole);
                }
            }
        }
    }

    /// Messages (see `read_message`) until (and including) the server's close frame; `Err` when
    /// the connection ended without one. Guarded by `guard`.
    pub async fn until_close(&mut self, guard: Duration) -> Result<(Vec<Frame>, Frame), End> {
        tokio::time::timeout(guard, async {
            let mut before = Vec::new();
            loop {
                let f = self.read_message().await?;
                if f.opcode == CLOSE {
                    return Ok((before, f));
                }
                before.push(f);
            }
        })
        .await
        .expect("the server neither closed nor ended the connection in time")
    }

    /// Reads (and drops) everything until the connection ends.
    pub async fn end(&mut self, guard: Duration) -> End {
        tokio::time::timeout(guard, async {
            loop {
                if let Err(e) = self.read_frame().await {
                    return e;
                }
            }
        })
        .await
        .expect("the connection did not end in time")
    }
}

/// One unmasked or masked frame from the front of `buf`, with its length.
fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let (b0, b1) = (buf[0], buf[1]);
    let mut at = 2;
    let mut len = (b1 & 0x7f) as usize;
    if len == 126 {
        len = u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize;
        at = 4;
    } else if len == 127 {
        len = u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize;
        at = 10;
    }
    let mask = if b1 & 0x80 != 0 {
        let m: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    let body = buf.get(at..at + len)?;
    let payload = match mask {
        Some(m) => body.iter().enumerate().map(|(i, b)| b ^ m[i % 4]).collect(),
        None => body.to_vec(),
    };
    Some((Frame { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 0x7, opcode: b0 & 0xf, mask, payload }, at + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        for f in [Frame::text("问政"), Frame::new(BINARY, vec![7u8; 300]).unmasked(), Frame::new(PING, vec![1u8; 70_000]).fin(false).rsv(5)]
        {
            let bytes = f.encode();
            assert_eq!(parse(&bytes), Some((f, bytes.len())));
            assert_eq!(parse(&bytes[..bytes.len() - 1]), None);
        }
    }
}
