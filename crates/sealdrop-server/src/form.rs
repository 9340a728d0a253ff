//! The names of the fields of the source's forms, in one place: the pages
//! write them, the upload and replies readers look for them, so that a page
//! and its reader cannot disagree. The templates in static/templates name
//! some of them too; a test holds the templates to this list.

/// The message typed on the submission and follow-up forms.
pub const MESSAGE: &str = "message";
/// File fields of the submission and follow-up forms (any number).
pub const ATTACHMENT: &str = "attachment";
/// The radio group of desks on the submission form (with desks only).
pub const DESK: &str = "desk";
/// The hidden proof of a codename on the replies page's forms; first in the
/// follow-up form's body, so that it is read before any file.
pub const TOKEN: &str = "token";
/// The codename typed on the replies login form.
pub const CODENAME: &str = "codename";
/// The honeypot on the submission form (`--honeypot`): hidden from people
/// and screen readers, a name no browser's autofill matches. Filled, the
/// submission is junk.
pub const TRAP: &str = "sd_trap";

/// What the source typed, kept so that the form of a refused upload shows
/// it again (the "retry" form: `pages::Retry`): what a phone over Tor sent
/// for minutes is not lost to a full store or a slip of size. Wiped when
/// dropped.
pub struct KeptMessage {
    pub text: zeroize::Zeroizing<String>,
    /// The message was longer than what is shown (by `message_bytes`, or by
    /// an unknown amount when the upload stopped inside it).
    pub cut: bool,
    pub message_bytes: u64,
}

/// Every field name a source's form may carry.
pub const ALL: [&str; 6] = [MESSAGE, ATTACHMENT, DESK, TOKEN, CODENAME, TRAP];

#[cfg(test)]
mod tests {
    /// Every `name="…"` a template gives a form field is a name the server
    /// reads, and the names the server reads appear in some template or page.
    #[test]
    fn templates_name_only_the_fields_the_server_reads() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../static/templates");
        let mut named = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // Form controls only (a <meta name="referrer"> is no field).
            for tag in text.split('<').skip(1) {
                let control = ["input ", "textarea ", "select ", "button "]
                    .iter()
                    .any(|c| tag.starts_with(c));
                if let (true, Some(at)) = (control, tag.find(" name=\"")) {
                    let rest = &tag[at + " name=\"".len()..];
                    named.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
        for name in &named {
            assert!(
                super::ALL.contains(&name.as_str()),
                "a template names field {name:?}, which is not in form.rs"
            );
        }
        for name in [super::MESSAGE, super::ATTACHMENT, super::CODENAME] {
            assert!(named.contains(name), "no template has a {name:?} field");
        }
    }
}
