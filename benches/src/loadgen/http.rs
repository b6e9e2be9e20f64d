//! A minimal HTTP/1.1 client over one keep-alive TCP connection: enough for
//! nchan's publisher (`POST /pub?id=CH`, `GET` for the channel's
//! subscriber count) and our `POST /api/sessions`. Answers are read by
//! `Content-Length` or chunked encoding.

use anyhow::{Context, bail};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every request must be answered within this.
const GUARD: Duration = Duration::from_secs(30);

pub struct HttpConn {
    addr: String,
    stream: TcpStream,
    buf: Vec<u8>,
}

/// An answer: status code and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpConn {
    pub async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(GUARD, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self { addr: addr.to_owned(), stream, buf: Vec::new() })
    }

    /// Sends one request and reads its answer.
    pub async fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> anyhow::Result<Answer> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n", self.addr, body.len());
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        let io = async {
            self.stream.write_all(&bytes).await?;
            loop {
                if let Some((answer, used)) = parse_answer(&self.buf)? {
                    self.buf.drain(..used);
                    return Ok(answer);
                }
                let mut chunk = [0u8; 16 * 1024];
                let n = self.stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("connection closed before the answer was complete");
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
        };
        tokio::time::timeout(GUARD, io)
            .await
            .with_context(|| format!("{method} {path}: no answer within {GUARD:?}"))?
            .with_context(|| format!("{method} {path}"))
    }
}

/// Parses one complete answer at the start of `buf`; `None` if more bytes
/// are needed. Returns the answer and the number of bytes it took.
pub fn parse_answer(buf: &[u8]) -> anyhow::Result<Option<(Answer, usize)>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            bail!("answer headers larger than 64 KiB");
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("answer head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).with_context(|| format!("bad status line {status_line:?}"))?;
    let (mut length, mut chunked) = (None, false);
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "content-length" {
            length = Some(v.parse::<usize>().context("bad Content-Length")?);
        } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    let start = head_end + 4;
    if chunked {
        let mut body = Vec::new();
        let mut at = start;
        loop {
            let Some(eol) = buf[at..].windows(2).position(|w| w == b"\r\n") else {
                return Ok(None);
            };
            let size_text = std::str::from_utf8(&buf[at..at + eol])?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            at += eol + 2;
            if size == 0 {
                // No trailers are expected: the final CRLF.
                if buf.len() < at + 2 {
                    return Ok(None);
                }
                return Ok(Some((Answer { status, body }, at + 2)));
            }
            if buf.len() < at + size + 2 {
                return Ok(None);
            }
            body.extend_from_slice(&buf[at..at + size]);
            at += size + 2;
        }
    }
    // Every answer we expect has a length (204 and 304 have none and no body).
    let length = length.unwrap_or(0);
    if buf.len() < start + length {
        return Ok(None);
    }
    Ok(Some((Answer { status, body: buf[start..start + length].to_vec() }, start + length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_and_pipelining() {
        let raw = b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
        let (a, used) = parse_answer(raw).unwrap().unwrap();
        assert_eq!((a.status, a.body.as_slice()), (201, &b"hello"[..]));
        let (b, rest) = parse_answer(&raw[used..]).unwrap().unwrap();
        assert_eq!((b.status, rest), (202, raw.len() - used));
        assert!(parse_answer(&raw[..used - 1]).unwrap().is_none());
    }

    #[test]
    fn chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (a, used) = parse_answer(raw).unwrap().unwrap();
        assert_eq!((a.status, a.body.as_slice(), used), (200, &b"abcde"[..], raw.len()));
        assert!(parse_answer(&raw[..raw.len() - 1]).unwrap().is_none());
    }

    #[test]
    fn bad_status() {
        assert!(parse_answer(b"garbage\r\n\r\n").is_err());
    }
}
