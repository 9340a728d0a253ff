//! Pages that never change while the server runs, rendered once at start-up
//! for every language, so that serving one is a reference-count increment
//! rather than a round of Fluent formatting.

use bytes::Bytes;

use super::Lang;
use crate::config::Policy;

/// The form, the "received" page and the replies login, by language.
pub struct FixedPages {
    index: Vec<Bytes>,
    received: Vec<Bytes>,
    replies_login: Vec<Bytes>,
}

fn position(lang: Lang) -> usize {
    Lang::ALL
        .iter()
        .position(|&l| l == lang)
        .expect("every language is in Lang::ALL")
}

impl FixedPages {
    pub fn new(policy: &Policy) -> FixedPages {
        FixedPages {
            index: Lang::ALL
                .iter()
                .map(|&lang| Bytes::from(super::index(lang, policy)))
                .collect(),
            received: Lang::ALL
                .iter()
                .map(|&lang| Bytes::from(super::received(lang)))
                .collect(),
            replies_login: Lang::ALL
                .iter()
                .map(|&lang| Bytes::from(super::replies_login(lang)))
                .collect(),
        }
    }

    pub fn replies_login(&self, lang: Lang) -> Bytes {
        self.replies_login[position(lang)].clone()
    }

    pub fn index(&self, lang: Lang) -> Bytes {
        self.index[position(lang)].clone()
    }

    pub fn received(&self, lang: Lang) -> Bytes {
        self.received[position(lang)].clone()
    }
}
