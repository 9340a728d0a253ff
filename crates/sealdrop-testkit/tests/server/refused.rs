//! A refused upload's page: the error, then the form again with the message
//! the source typed (escaped, in its box), the limit and by how much, and a
//! plain word that files must be chosen again. Nothing of it is stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::server::*;
use sealdrop_server::pages::{text, Lang};

/// What the source typed: markup, an ampersand, a leading line break (which
/// an HTML parser drops from a textarea unless the page adds one).
const TYPED: &str = "\n<b>Minutes</b> & notes: the convoy left at 05:40.";
const TYPED_ESCAPED: &str = "\n&lt;b&gt;Minutes&lt;/b&gt; &amp; notes: the convoy left at 05:40.";

/// The textarea's content in a page, as markup.
fn textarea_of(page: &str) -> &str {
    let start = page.find("<textarea").expect("a textarea");
    let open = start + page[start..].find('>').unwrap() + 1;
    let close = open + page[open..].find("</textarea>").unwrap();
    &page[open..close]
}

/// Checks a refused upload's page: status, the form again with `typed`
/// (markup as sent) in its box, files to choose again.
fn assert_refill(response: &Response, status: u16, action: &str, typed: &str, what: &str) {
    let page = response.text();
    assert_eq!(response.status, status, "{what}: {page}");
    assert!(
        page.contains(&format!("action=\"{action}\"")),
        "{what}: the form again"
    );
    // The parser drops the first line break after <textarea>: the page adds
    // one so that the message keeps its own.
    assert_eq!(textarea_of(&page), format!("\n{typed}"), "{what}");
    assert!(page.contains("id=\"files-again\""), "{what}: files again");
    assert!(!page.contains("<b>Minutes"), "{what}: escaped");
}

#[test]
fn every_refused_upload_shows_the_form_again_with_the_message() {
    let server = Server::start(&[
        "--max-upload-size",
        "1MiB",
        "--max-message-size",
        "10KiB",
        "--max-attachments",
        "2",
    ]);
    let message = text_field("message", TYPED.as_bytes());
    let kept_note = text(Lang::En, "kept-message", &[]);

    // Too large by its declared length: only the message is read.
    let huge = vec![b'x'; 3 << 20];
    let response = submit(server.addr, &[message, file_field("scan.pdf", &huge)]);
    assert_refill(
        &response,
        413,
        "/en/submit",
        TYPED_ESCAPED,
        "declared too large",
    );
    let page = response.text();
    assert!(page.contains(&kept_note), "{page}");
    assert!(page.contains("larger than 1 MB"));
    // The request was a little over 3 MB: 2 MB over the limit.
    assert!(
        page.contains("Yours is 3.0 MB: 2.0 MB over the limit."),
        "{page}"
    );

    // Too large while streaming (the declared length was within reach).
    let big = vec![b'x'; 1536 << 10];
    let response = submit(server.addr, &[message, file_field("scan.pdf", &big)]);
    assert_refill(
        &response,
        413,
        "/en/submit",
        TYPED_ESCAPED,
        "streamed too large",
    );
    assert!(response
        .text()
        .contains("Yours is 1.5 MB: 513 KB over the limit."));

    // Too many files.
    let response = submit(
        server.addr,
        &[
            message,
            file_field("1", b"a"),
            file_field("2", b"b"),
            file_field("3", b"c"),
        ],
    );
    assert_refill(
        &response,
        413,
        "/en/submit",
        TYPED_ESCAPED,
        "too many files",
    );

    // A field no form has, after the message.
    let response = submit(server.addr, &[message, text_field("evil", b"x")]);
    assert_refill(&response, 400, "/en/submit", TYPED_ESCAPED, "malformed");

    // Nothing at all: the form again, empty, and no note about a message.
    let response = submit(server.addr, &[text_field("message", b"")]);
    assert_refill(&response, 400, "/en/submit", "", "empty");
    assert!(!response.text().contains("id=\"kept\""));

    // A message over the limit: what fits is kept, and the page says so,
    // and by how much the message was over.
    let long: String = "0123456789abcdef".repeat(20 * 64);
    let response = submit(server.addr, &[text_field("message", long.as_bytes())]);
    assert_refill(
        &response,
        413,
        "/en/submit",
        &long[..10 * 1024],
        "message too long",
    );
    let page = response.text();
    assert!(
        page.contains("Only the first 10 KB of your message"),
        "{page}"
    );
    assert!(
        page.contains("Yours is 20 KB: 10 KB over the limit."),
        "{page}"
    );

    // In Arabic: the Arabic form, the sizes in Arabic-Indic digits.
    let body = multipart_body(&[message, file_field("scan.pdf", &big)]);
    let mut request = post_head("/ar/submit", body.len(), "");
    request.extend_from_slice(&body);
    let response = exchange(server.addr, &request);
    assert_refill(&response, 413, "/ar/submit", TYPED_ESCAPED, "Arabic");
    let page = response.text();
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(page.contains("١٫٥") && page.contains(&text(Lang::Ar, "files-again", &[])));

    assert_eq!(server.store_names(), Vec::<String>::new(), "nothing stored");
}

/// A page of another site can make a browser post to the drop; the drop
/// must not then show that site's text as if the source had typed it.
#[test]
fn a_cross_site_post_is_not_shown_what_it_sent() {
    let server = Server::start(&["--max-upload-size", "1MiB"]);
    let big = vec![b'x'; 1536 << 10];
    let fields = [
        text_field(
            "message",
            b"Your codename was leaked: mail it to us at once",
        ),
        file_field("x.pdf", &big),
    ];
    let cross = submit_with(server.addr, &fields, "Sec-Fetch-Site: cross-site\r\n");
    assert_refill(&cross, 413, "/en/submit", "", "cross-site");
    assert!(!cross.text().contains("leaked"));
    let same = submit_with(server.addr, &fields, "Sec-Fetch-Site: same-origin\r\n");
    assert!(
        same.text().contains("leaked"),
        "a same-origin post is shown again"
    );
}

/// A body that stalls after the message: the 408 page shows the message.
#[test]
fn a_stalled_upload_shows_the_message_again() {
    let server = Server::start(&["--body-idle-timeout", "1s"]);
    let body = multipart_body(&[
        text_field("message", TYPED.as_bytes()),
        file_field("stall.bin", &vec![3u8; 200_000]),
    ]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&post_head("/submit", body.len(), "")).unwrap();
    s.write_all(&body[..100_000]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let response = parse_response(&raw).expect("an answer, not a reset");
    assert_refill(&response, 408, "/en/submit", TYPED_ESCAPED, "stalled");
    assert_eq!(server.store_names(), Vec::<String>::new());
}

/// The replies page's follow-up form, refused: shown again with its token,
/// so that the source can fix it and send without logging in again.
#[test]
fn a_refused_follow_up_shows_its_form_again_with_its_token() {
    let server = Server::start(&["--max-upload-size", "1MiB"]);
    let first = submit(server.addr, &[text_field("message", b"first")]);
    let codename = element_text(&first.text(), "codename").expect("a codename");
    let token = token_in(&login(server.addr, "fa", &codename).text());
    let big = vec![b'x'; 1536 << 10];
    let body = multipart_body(&[
        text_field("token", token.as_bytes()),
        text_field("message", TYPED.as_bytes()),
        file_field("scan.pdf", &big),
    ]);
    let mut request = post_head("/fa/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    let response = exchange(server.addr, &request);
    assert_refill(
        &response,
        413,
        "/fa/replies/followup",
        TYPED_ESCAPED,
        "follow-up",
    );
    assert_eq!(token_in(&response.text()), token, "the same token");
    // Sent again from that page, it is sealed in the thread.
    let body = multipart_body(&[
        text_field("token", token_in(&response.text()).as_bytes()),
        text_field("message", TYPED.as_bytes()),
    ]);
    let mut request = post_head("/fa/replies/followup", body.len(), "");
    request.extend_from_slice(&body);
    assert_eq!(exchange(server.addr, &request).status, 303);
    assert_eq!(server.sealed_files().len(), 2);
}
