//! How a source's request can end badly: the one list of outcomes every
//! layer speaks (the upload and replies readers decide one, `answer` turns
//! it into a page and a count). It imports nothing of this crate, so that
//! the pages, the counters and the readers can all depend on it without
//! depending on each other.

use axum::http::StatusCode;

/// Every error a source can meet, each with its own localized page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    TooLarge,
    TooManyFiles,
    MessageTooLong,
    Malformed,
    Empty,
    /// The client went away before its upload was complete (nobody sees the
    /// page; the outcome is counted).
    Aborted,
    Busy,
    Full,
    Timeout,
    /// A slow upload whose slot a newcomer took, when every slot was taken.
    Evicted,
    NotFound,
    MethodNotAllowed,
    Internal,
    /// A typed codename that cannot be one (wrong length, not digits, check
    /// digits that do not match): told before any costly work.
    CodenameTypo,
    /// A replies form far larger than a codename.
    FieldTooLong,
    /// Every login turn is taken.
    LoginBusy,
    /// A replies form whose token this process cannot read: too old, or
    /// from before a restart.
    Expired,
    /// A first message without files shorter than `--min-message-length`.
    TooShort,
}

/// Why an upload or a login ended in the 500 page: counted by kind in the
/// interval summary (`internal_pool_empty=1 …`), never logged one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Internal {
    /// The store's file pool could not give a file (it could not be
    /// refilled, or its files were removed under it).
    PoolEmpty,
    /// Writing, syncing or renaming in the store failed for another reason
    /// than a full disk or an unreachable object store.
    StoreIo,
    /// The age/ZIP writer refused what it was given.
    Seal,
    /// A job on a blocking pool panicked, or the runtime was stopping.
    JobLost,
    /// The sealer's input ended before the request did (a stage stopped
    /// without saying why).
    Incomplete,
    /// The replies folder could not be read or changed for a login or a
    /// deletion.
    RepliesIo,
    /// The pickup API could not read, send or delete from the store.
    PickupIo,
}

impl Problem {
    pub const ALL: &'static [Problem] = &[
        Problem::TooLarge,
        Problem::TooManyFiles,
        Problem::MessageTooLong,
        Problem::Malformed,
        Problem::Empty,
        Problem::Aborted,
        Problem::Busy,
        Problem::Full,
        Problem::Timeout,
        Problem::Evicted,
        Problem::NotFound,
        Problem::MethodNotAllowed,
        Problem::Internal,
        Problem::CodenameTypo,
        Problem::FieldTooLong,
        Problem::LoginBusy,
        Problem::Expired,
        Problem::TooShort,
    ];

    pub fn status(self) -> StatusCode {
        match self {
            Problem::TooLarge
            | Problem::TooManyFiles
            | Problem::MessageTooLong
            | Problem::FieldTooLong => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::Malformed
            | Problem::Empty
            | Problem::Aborted
            | Problem::CodenameTypo
            | Problem::TooShort => StatusCode::BAD_REQUEST,
            Problem::Busy | Problem::Full | Problem::LoginBusy => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Expired => StatusCode::FORBIDDEN,
            Problem::Timeout | Problem::Evicted => StatusCode::REQUEST_TIMEOUT,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this problem's page answers an upload form with the retry
    /// form (`pages::Retry`): the form again, with what was typed (the page of an aborted upload is never seen; a
    /// follow-up whose token failed goes back to the codename form).
    pub fn offers_retry(self) -> bool {
        matches!(
            self,
            Problem::TooLarge
                | Problem::TooManyFiles
                | Problem::MessageTooLong
                | Problem::Malformed
                | Problem::Empty
                | Problem::TooShort
                | Problem::Busy
                | Problem::Full
                | Problem::Timeout
                | Problem::Evicted
                | Problem::Internal
        )
    }

    /// The message id of this problem's page (`<id>-title`, `<id>-body`).
    pub fn message_id(self) -> &'static str {
        match self {
            Problem::TooLarge => "error-too-large",
            Problem::TooManyFiles => "error-too-many-files",
            Problem::MessageTooLong => "error-message-too-long",
            Problem::Malformed | Problem::Aborted => "error-malformed",
            Problem::Empty => "error-empty",
            Problem::TooShort => "error-too-short",
            Problem::Busy => "error-busy",
            Problem::Full => "error-full",
            Problem::Timeout | Problem::Evicted => "error-timeout",
            Problem::NotFound => "error-not-found",
            Problem::MethodNotAllowed => "error-method",
            Problem::Internal => "error-internal",
            Problem::CodenameTypo => "error-codename-typo",
            Problem::FieldTooLong => "error-field-too-long",
            Problem::LoginBusy => "error-login-busy",
            Problem::Expired => "error-expired",
        }
    }
}
