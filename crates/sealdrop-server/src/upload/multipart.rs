//! Step 2 of an upload: the multipart form, parsed by multer while it streams.
//! Every limit is enforced here, byte by byte: axum's extractor does not pass
//! multer's per-field limits through, so we count ourselves. Parts and chunks
//! go on to the sealer as [`Command`]s.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

use super::sealer::Command;
use super::typed::Typed;
use crate::config::Policy;
use crate::form;
use crate::outcome::Problem;
use sealdrop_format::bytesize::MIB;
use sealdrop_format::seal::ReplyBlock;

/// Multipart framing allowed beyond the content: boundaries and part headers.
const FRAMING_BASE: u64 = MIB;

/// The most multipart framing a whole request may carry.
pub(super) fn framing_allowance(policy: &Policy) -> u64 {
    // A message, the attachments, an empty file input and a follow-up's token.
    FRAMING_BASE + (policy.max_attachments as u64 + 3) * policy.max_part_header_bytes
}

/// Byte accounting shared between multer's input and our field loop: multer's
/// buffer holds at most `pulled - consumed` bytes, which must stay within the
/// framing allowance of the fields seen so far.
#[derive(Default)]
pub(super) struct Framing {
    consumed: AtomicU64,
    fields: AtomicU64,
}

/// Why feeding the sealer stopped early.
#[derive(Debug)]
pub(super) enum FeedError {
    Problem(Problem),
    /// The sealer stopped; its result says why.
    SealerGone,
}

impl From<Problem> for FeedError {
    fn from(p: Problem) -> Self {
        FeedError::Problem(p)
    }
}

fn multer_problem(e: multer::Error) -> Problem {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            Problem::TooLarge
        }
        // The pump stopped the body: its reason travels inside the error.
        multer::Error::StreamReadFailed(inner) => inner
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|reason| reason.downcast_ref::<super::body::Stopped>())
            .map_or(Problem::Malformed, |stopped| stopped.0),
        _ => Problem::Malformed,
    }
}

/// The longest token field read (tokens are about 107 characters).
const MAX_TOKEN_BYTES: usize = 512;
/// The longest desk field read (names are at most 32 bytes).
const MAX_DESK_BYTES: usize = 64;

/// Reads a follow-up's token and returns the reply block it proves and its
/// thread's desk (by index) if a reply named one, or the problem to show
/// (an expired page, say).
pub(super) type TokenCheck<'a> =
    &'a (dyn Fn(&str) -> Result<(ReplyBlock, Option<usize>), Problem> + Send + Sync);

/// The multipart parser over the body chunks, with the framing cap that
/// bounds multer's buffer. A follow-up form also has its token field.
pub(super) fn parser(
    body: mpsc::Receiver<Result<Bytes, io::Error>>,
    boundary: String,
    policy: &Policy,
    framing: Arc<Framing>,
    follow_up: bool,
) -> multer::Multipart<'static> {
    let per_field = policy.max_part_header_bytes;
    let input = bounded_input(body, framing, per_field);
    let mut fields = vec![form::MESSAGE, form::ATTACHMENT];
    if follow_up {
        fields.push(form::TOKEN);
    }
    if !policy.desk_choice.is_empty() {
        fields.push(form::DESK);
    }
    // Accepted even with the honeypot off: a page loaded before the
    // operator turned it off still sends it, empty.
    if !follow_up {
        fields.push(form::TRAP);
    }
    let constraints = multer::Constraints::new()
        .allowed_fields(fields)
        .size_limit(
            multer::SizeLimit::new()
                .whole_stream(policy.max_upload_bytes + framing_allowance(policy)),
        );
    multer::Multipart::with_constraints(input, boundary, constraints)
}

/// The body chunks as multer reads them, cut off with an error once more has
/// been pulled than the fields seen so far can account for.
fn bounded_input(
    body: mpsc::Receiver<Result<Bytes, io::Error>>,
    framing: Arc<Framing>,
    per_field: u64,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    futures_util::stream::unfold((body, 0u64), move |(mut rx, mut pulled)| {
        let framing = framing.clone();
        async move {
            let item = rx.recv().await?;
            if let Ok(chunk) = &item {
                pulled += chunk.len() as u64;
                let allowed = framing.consumed.load(Ordering::Relaxed)
                    + FRAMING_BASE
                    + (framing.fields.load(Ordering::Relaxed) + 1) * per_field;
                if pulled > allowed {
                    let err =
                        io::Error::new(io::ErrorKind::InvalidData, "multipart framing too large");
                    return Some((Err(err), (rx, pulled)));
                }
            }
            Some((item, (rx, pulled)))
        }
    })
}

async fn send(tx: &mpsc::Sender<Command>, command: Command) -> Result<(), FeedError> {
    tx.send(command).await.map_err(|_| FeedError::SealerGone)
}

/// The token field that must open a follow-up form, checked; its reply
/// block goes to the sealer before any content.
/// Returns whether the token fixed the desk (its thread's), which a desk
/// field then cannot change.
async fn take_token(
    multipart: &mut multer::Multipart<'static>,
    framing: &Framing,
    check: TokenCheck<'_>,
    tx: &mpsc::Sender<Command>,
    typed: &mut Typed,
) -> Result<bool, FeedError> {
    let token = read_token(multipart, framing).await?;
    typed.set_token(&token);
    let (block, desk) = check(&token)?;
    typed.set_thread_desk(desk);
    send(tx, Command::Reply(block)).await?;
    if let Some(desk) = desk {
        send(tx, Command::Desk(desk)).await?;
    }
    Ok(desk.is_some())
}

/// The token field that opens a follow-up form, as text.
async fn read_token(
    multipart: &mut multer::Multipart<'static>,
    framing: &Framing,
) -> Result<zeroize::Zeroizing<String>, Problem> {
    let mut field = multipart
        .next_field()
        .await
        .map_err(multer_problem)?
        .ok_or(Problem::Malformed)?;
    if field.name() != Some(form::TOKEN) || field.file_name().is_some() {
        return Err(Problem::Malformed);
    }
    framing.fields.store(1, Ordering::Relaxed);
    let token = small_text(&mut field, framing, MAX_TOKEN_BYTES, Problem::Expired).await?;
    Ok(zeroize::Zeroizing::new(token))
}

/// A short text field read whole (a token, a desk name), counted as framing;
/// `refusal` when it is longer than `max` bytes or not UTF-8.
async fn small_text(
    field: &mut multer::Field<'static>,
    framing: &Framing,
    max: usize,
    refusal: Problem,
) -> Result<String, Problem> {
    let mut value = Vec::with_capacity(max);
    while let Some(chunk) = field.chunk().await.map_err(multer_problem)? {
        framing
            .consumed
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if value.len() + chunk.len() > max {
            return Err(refusal);
        }
        value.extend_from_slice(&chunk);
    }
    String::from_utf8(value).map_err(|_| refusal)
}

/// A desk field's value, checked against the configured names; its index
/// (the order of `--desk`, which is the order of the server's desks).
async fn read_desk(
    field: &mut multer::Field<'static>,
    framing: &Framing,
    policy: &Policy,
) -> Result<(usize, String), Problem> {
    let name = small_text(field, framing, MAX_DESK_BYTES, Problem::Malformed).await?;
    let index = policy
        .desk_choice
        .iter()
        .position(|d| d.name == name)
        .ok_or(Problem::Malformed)?;
    Ok((index, name))
}

/// Reads only what the source typed (the follow-up token, then the
/// message), for the page of an upload refused before its content was
/// wanted (too large by its declared length, every slot taken, the store
/// full). Stops at the first file; nothing goes to a sealer.
pub(super) async fn read_typed_only(
    policy: &Policy,
    mut multipart: multer::Multipart<'static>,
    framing: &Framing,
    follow_up: bool,
    typed: &mut Typed,
) {
    if follow_up {
        match read_token(&mut multipart, framing).await {
            Ok(token) => typed.set_token(&token),
            Err(_) => return,
        }
    }
    let Ok(Some(mut field)) = multipart.next_field().await else {
        return;
    };
    if field.name() == Some(form::DESK) && field.file_name().is_none() {
        framing.fields.fetch_add(1, Ordering::Relaxed);
        match read_desk(&mut field, framing, policy).await {
            Ok((_, name)) => typed.set_desk(&name),
            Err(_) => return,
        }
        field = match multipart.next_field().await {
            Ok(Some(next)) => next,
            _ => return,
        };
    }
    if field.name() == Some(form::TRAP) && field.file_name().is_none() {
        framing.fields.fetch_add(1, Ordering::Relaxed);
        if small_text(&mut field, framing, MAX_TRAP_BYTES, Problem::Malformed)
            .await
            .is_err()
        {
            return;
        }
        field = match multipart.next_field().await {
            Ok(Some(next)) => next,
            _ => return,
        };
    }
    if field.name() != Some(form::MESSAGE) || field.file_name().is_some() {
        return;
    }
    framing.fields.fetch_add(1, Ordering::Relaxed);
    while let Ok(Some(chunk)) = field.chunk().await {
        framing
            .consumed
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        typed.add_message(&chunk, policy.max_message_bytes);
        if typed.message_bytes() > policy.max_message_bytes {
            return;
        }
    }
    typed.end_message();
}

/// Reads the rest of a message that is over the limit, only counting it, so
/// that its page can say by how much; the stream's own size limit bounds it.
async fn count_rest_of_message(
    field: &mut multer::Field<'static>,
    framing: &Framing,
    typed: &mut Typed,
) {
    while let Ok(Some(chunk)) = field.chunk().await {
        let len = chunk.len() as u64;
        framing.consumed.fetch_add(len, Ordering::Relaxed);
        typed.count_message(len);
    }
    typed.end_message();
}

/// What a complete form held, beyond what went to the sealer.
#[derive(Debug, Default)]
pub(super) struct Fed {
    /// The honeypot field was filled.
    pub junk: bool,
    /// Characters of the message, spaces not counted.
    pub message_chars: usize,
    pub attachments: usize,
}

/// The longest honeypot value read.
const MAX_TRAP_BYTES: usize = 4096;

/// Characters in a piece of UTF-8, ASCII whitespace not counted (a
/// character cut between two chunks is counted once, at its first byte).
fn chars_in(chunk: &[u8]) -> usize {
    chunk
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80 && !b.is_ascii_whitespace())
        .count()
}

/// Walks the multipart fields, enforcing every limit while streaming, and
/// hands parts and chunks to the sealer. A follow-up (`token_check`) starts
/// with its token field. What the source typed is kept in `typed` as it
/// passes.
pub(super) async fn feed(
    policy: &Policy,
    mut multipart: multer::Multipart<'static>,
    framing: &Framing,
    tx: &mpsc::Sender<Command>,
    token_check: Option<TokenCheck<'_>>,
    typed: &mut Typed,
) -> Result<Fed, FeedError> {
    let mut fed = Fed::default();
    let mut trap_seen = false;
    let mut content = 0u64;
    let mut attachments = 0usize;
    let mut fields = 0usize;
    let mut has_message = false;
    let mut desk_chosen = false;
    let mut desk_of_thread = false;
    if let Some(check) = token_check {
        desk_of_thread = take_token(&mut multipart, framing, check, tx, typed).await?;
        fields += 1;
    }
    while let Some(mut field) = multipart.next_field().await.map_err(multer_problem)? {
        fields += 1;
        framing.fields.store(fields as u64, Ordering::Relaxed);
        // A message, the attachments, one empty file input (and a token, a
        // desk).
        let others =
            usize::from(token_check.is_some()) + usize::from(desk_chosen) + usize::from(trap_seen);
        if fields > policy.max_attachments + 2 + others {
            return Err(Problem::TooManyFiles.into());
        }
        // Multer has already buffered these headers (the framing cap bounds
        // that memory); a part whose headers exceed the limit is refused.
        let header_bytes: usize = field
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum();
        if header_bytes as u64 > policy.max_part_header_bytes {
            return Err(Problem::Malformed.into());
        }
        if field.name() == Some(form::DESK) {
            // Once, and before any content: the sealed file is made (and
            // sealed to the desk's keys) at the first byte of content.
            if desk_chosen
                || fields > 1 + usize::from(token_check.is_some())
                || field.file_name().is_some()
            {
                return Err(Problem::Malformed.into());
            }
            let (index, name) = read_desk(&mut field, framing, policy).await?;
            typed.set_desk(&name);
            // A follow-up in a thread with a desk goes there, whatever a
            // stale or crafted form says.
            if !desk_of_thread {
                send(tx, Command::Desk(index)).await?;
            }
            desk_chosen = true;
            continue;
        }
        if field.name() == Some(form::TRAP) && token_check.is_none() {
            if trap_seen || field.file_name().is_some() {
                return Err(Problem::Malformed.into());
            }
            trap_seen = true;
            let value = small_text(&mut field, framing, MAX_TRAP_BYTES, Problem::Malformed).await?;
            fed.junk |= policy.honeypot && !value.is_empty();
            continue;
        }
        // A follow-up in a thread with no desk yet goes where the source
        // chose: the form asks (`required`), and a form that does not say
        // is refused rather than sent to the first desk.
        if token_check.is_some()
            && !policy.desk_choice.is_empty()
            && !desk_of_thread
            && !desk_chosen
        {
            return Err(Problem::Malformed.into());
        }
        let is_message = match field.name() {
            Some(form::MESSAGE) if !has_message && field.file_name().is_none() => true,
            Some(form::ATTACHMENT) => false,
            _ => return Err(Problem::Malformed.into()),
        };
        has_message |= is_message;
        // The name as the source gave it: multer misses RFC 8187 names and
        // the browsers' escapes (see `disposition`).
        let file_name = field
            .headers()
            .get(axum::http::header::CONTENT_DISPOSITION)
            .and_then(|v| super::disposition::file_name(v.as_bytes()))
            .or_else(|| field.file_name().map(str::to_owned))
            .unwrap_or_default();
        let content_type = field.content_type().map(|m| m.to_string());
        let mut begin = Some(if is_message {
            Command::BeginMessage
        } else {
            Command::BeginAttachment {
                name: file_name.clone(),
                content_type,
            }
        });
        let mut part_bytes = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(multer_problem)? {
            if chunk.is_empty() {
                continue;
            }
            let len = chunk.len() as u64;
            framing.consumed.fetch_add(len, Ordering::Relaxed);
            part_bytes += len;
            content += len;
            if is_message {
                fed.message_chars += chars_in(&chunk);
                typed.add_message(&chunk, policy.max_message_bytes);
                if part_bytes > policy.max_message_bytes {
                    count_rest_of_message(&mut field, framing, typed).await;
                    return Err(Problem::MessageTooLong.into());
                }
            }
            if content > policy.max_upload_bytes {
                return Err(Problem::TooLarge.into());
            }
            if let Some(command) = begin.take() {
                if !is_message {
                    attachments += 1;
                    if attachments > policy.max_attachments {
                        return Err(Problem::TooManyFiles.into());
                    }
                }
                send(tx, command).await?;
            }
            send(tx, Command::Data(chunk)).await?;
        }
        // An empty file the source chose on purpose still counts; the empty
        // file input a browser sends when no file was chosen does not.
        if let Some(command) = begin.take() {
            if !is_message && !file_name.is_empty() {
                attachments += 1;
                if attachments > policy.max_attachments {
                    return Err(Problem::TooManyFiles.into());
                }
                send(tx, command).await?;
                send(tx, Command::EndPart).await?;
            }
        } else {
            send(tx, Command::EndPart).await?;
        }
        if is_message {
            typed.end_message();
        }
    }
    fed.attachments = attachments;
    Ok(fed)
}
