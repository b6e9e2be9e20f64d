//! RFC 6455 framing rules on a raw socket against the real server: each
//! violation gets a close frame with the right code (1002 or 1007), then the
//! server closes the TCP connection (EOF, not a reset), and keeps serving
//! everyone else. A client's normal close is echoed.

use serde_json::json;
use wz_e2e::raw::{BINARY, CLOSE, CONTINUATION, Frame, PING, RawSocket, TEXT};
use wz_e2e::{GUARD, Server};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const PING_JSON: &str = r#"{"type":"ping","id":"p1"}"#;

/// A server and a raw moderator connection past its first message (the snapshot).
async fn connected() -> (Server, RawSocket, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &["--store", "memory"]).await.unwrap();
    let mut raw = RawSocket::connect(&server.addr, &server.token("moderator")).await.unwrap();
    let first = raw.read_message().await.expect("the snapshot");
    assert_eq!(first.opcode, TEXT);
    assert!(String::from_utf8_lossy(&first.payload).contains("\"snapshot\""));
    (server, raw, dir)
}

/// Sends `frames`, expects a close with `code`, then EOF; then checks that
/// the server still answers another client.
async fn expect_close(frames: &[Frame], code: u16) {
    let (server, mut raw, _dir) = connected().await;
    for f in frames {
        raw.send(f).await.unwrap();
    }
    let (_, close) = raw.until_close(GUARD).await.unwrap_or_else(|e| panic!("no close frame, the connection ended: {e:?}"));
    assert_eq!(close.close_code().map(|c| c.0), Some(code), "close frame {:?}", close.close_code());
    assert_eq!(raw.end(GUARD).await, wz_e2e::raw::End::Eof, "the server closes the TCP connection after its close frame");
    let mut other = server.connect("screen", None).await;
    other.next().await;
    other.ok(json!({"type": "ping"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_a_text_frame_gets_1007() {
    expect_close(&[Frame::new(TEXT, vec![b'{', 0xff, 0xfe, b'}'])], 1007).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_split_across_fragments_gets_1007() {
    // "问" is E9 97 AE: the first fragment ends on a valid prefix, the
    // continuation does not complete it.
    let first = Frame::new(TEXT, vec![b'"', 0xE9, 0x97]).fin(false);
    let rest = Frame::new(CONTINUATION, vec![b'x', b'"']);
    expect_close(&[first, rest], 1007).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_utf8_split_inside_a_character_is_accepted() {
    let (_server, mut raw, _dir) = connected().await;
    let msg = r#"{"type":"ping","id":"问政"}"#.as_bytes();
    let cut = msg.iter().position(|b| *b == 0xE9).unwrap() + 1;
    raw.send(&Frame::new(TEXT, msg[..cut].to_vec()).fin(false)).await.unwrap();
    raw.send(&Frame::new(CONTINUATION, msg[cut..].to_vec())).await.unwrap();
    let ack = loop {
        let f = raw.read_message().await.expect("the ack");
        let text = String::from_utf8(f.payload).unwrap();
        if text.contains("\"ack\"") {
            break text;
        }
    };
    assert!(ack.contains("问政"), "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmasked_client_frame_gets_1002() {
    expect_close(&[Frame::text(PING_JSON).unmasked()], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_frame_over_125_bytes_gets_1002() {
    expect_close(&[Frame::new(PING, vec![b'x'; 126])], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_control_frame_gets_1002() {
    expect_close(&[Frame::new(PING, b"x".to_vec()).fin(false)], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsv1_without_an_extension_gets_1002() {
    expect_close(&[Frame::text(PING_JSON).rsv(0b100)], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsv2_and_rsv3_get_1002() {
    expect_close(&[Frame::text(PING_JSON).rsv(0b010)], 1002).await;
    expect_close(&[Frame::new(BINARY, vec![1]).rsv(0b001)], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_data_opcode_0x3_gets_1002() {
    expect_close(&[Frame::new(0x3, b"x".to_vec())], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_control_opcode_0xb_gets_1002() {
    expect_close(&[Frame::new(0xB, b"x".to_vec())], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuation_without_a_start_gets_1002() {
    expect_close(&[Frame::new(CONTINUATION, PING_JSON.as_bytes())], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_data_frame_inside_a_fragmented_message_gets_1002() {
    let (a, b) = PING_JSON.split_at(10);
    expect_close(&[Frame::new(TEXT, a.as_bytes()).fin(false), Frame::new(TEXT, b.as_bytes())], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_code_1005_gets_1002() {
    expect_close(&[Frame::close(1005, "")], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_code_999_gets_1002() {
    expect_close(&[Frame::close(999, "")], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_code_1016_gets_1002() {
    expect_close(&[Frame::close(1016, "")], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_byte_close_payload_gets_1002() {
    expect_close(&[Frame::new(CLOSE, vec![0x03])], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_close_is_echoed_then_the_connection_ends() {
    expect_close(&[Frame::close(1000, "bye")], 1000).await;
}
