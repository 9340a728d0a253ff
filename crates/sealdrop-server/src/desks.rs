//! Desks: a newsroom's inboxes, which a source chooses between on the form.
//!
//! Each desk has its own recipients file (a submission to it is sealed to
//! those keys only) and its own folder of the store, `STORE/desks/NAME/`;
//! pickup tokens can be scoped to a desk (`crate::pickup_api`).
//! Without desks the server has one unnamed desk: the `--recipients` file
//! and the store folder itself, as before desks existed.
//!
//! Which desk got a submission is visible on the server (the folder it is
//! in): it must be, to route pickup (SECURITY.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Deserialize;

use crate::store::Store;
use sealdrop_format::keys::Recipients;

/// The folder of the store that holds the desks' folders.
pub(crate) const DESKS_DIR: &str = "desks";

/// The longest desk name (it is a folder name and a form value).
const MAX_NAME: usize = 32;
/// The prefix of a push-only pickup token (`replies:HEX`); no desk may be
/// named so.
pub(crate) const REPLIES_SCOPE: &str = "replies";
/// The most desks (a form's radio group; a reply token names one in a byte).
const MAX_DESKS: usize = 64;

/// A desk as configured: `--desk NAME=RECIPIENTS_FILE`, or a `[[desk]]`
/// table of the config file with its title in each page language.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeskSpec {
    pub name: String,
    pub recipients: PathBuf,
    /// The title the form shows, by page language (`en`, `ar`, …); the
    /// English one, else the name, where a language has none.
    #[serde(default)]
    pub title: BTreeMap<String, String>,
}

impl FromStr for DeskSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, file) = s.split_once('=').ok_or_else(|| {
            format!("--desk {s:?}: write NAME=RECIPIENTS_FILE, as in investigations=/etc/sealdrop/investigations.txt")
        })?;
        if file.is_empty() {
            return Err(format!("--desk {s:?}: the recipients file is missing"));
        }
        Ok(DeskSpec {
            name: name.to_owned(),
            recipients: PathBuf::from(file),
            title: BTreeMap::new(),
        })
    }
}

/// Refuses names that could not be a folder and a form value, and the same
/// name twice.
pub fn check_specs(specs: &[DeskSpec]) -> Result<(), String> {
    if specs.len() > MAX_DESKS {
        return Err(format!(
            "{} desks: at most {MAX_DESKS} (a form with more would not be read)",
            specs.len()
        ));
    }
    for (i, spec) in specs.iter().enumerate() {
        let name = &spec.name;
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if !valid {
            return Err(format!(
                "desk name {name:?}: use 1 to {MAX_NAME} lowercase letters, digits and dashes (it names a folder)"
            ));
        }
        if name == REPLIES_SCOPE {
            return Err(format!(
                "desk name {name:?} is taken: `replies:HEX` names a push-only pickup token; choose another name"
            ));
        }
        if specs[..i].iter().any(|other| other.name == *name) {
            return Err(format!("desk {name:?} is given twice"));
        }
        if spec.title.values().any(|t| t.trim().is_empty()) {
            return Err(format!("desk {name:?}: a title may not be empty"));
        }
    }
    Ok(())
}

/// A desk of the running server (its titles are the pages' business:
/// `Policy::desk_choice`).
pub struct Desk {
    /// Empty for the one desk of a server without desks.
    pub name: String,
    pub recipients: Recipients,
    pub store: std::sync::Arc<Store>,
}

/// The desks of the running server; the first is the default.
pub struct Desks {
    list: Vec<Desk>,
}

impl Desks {
    pub fn new(list: Vec<Desk>) -> Desks {
        assert!(!list.is_empty(), "a server has at least one desk");
        Desks { list }
    }

    pub fn default_desk(&self) -> &Desk {
        &self.list[0]
    }

    pub fn get(&self, index: usize) -> &Desk {
        &self.list[index.min(self.list.len() - 1)]
    }

    /// The named desk at `index` (none on a server without desks, or past
    /// the end: a token from before a change of desks).
    pub fn named_at(&self, index: usize) -> Option<&Desk> {
        self.list.get(index).filter(|d| !d.name.is_empty())
    }

    /// The index of the desk named `name`, if the server has it.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.list
            .iter()
            .position(|d| !d.name.is_empty() && d.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Desk> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_folder_names_and_unique() {
        let spec = |name: &str| DeskSpec {
            name: name.into(),
            recipients: "r.txt".into(),
            title: BTreeMap::new(),
        };
        assert!(check_specs(&[spec("investigations"), spec("desk-2")]).is_ok());
        for bad in ["", "Investigations", "../x", "a b", "-x", &"x".repeat(33)] {
            assert!(check_specs(&[spec(bad)]).is_err(), "{bad:?}");
        }
        assert!(check_specs(&[spec("a"), spec("a")]).is_err());
        assert_eq!(
            "politics=/etc/p.txt".parse::<DeskSpec>().unwrap(),
            DeskSpec {
                name: "politics".into(),
                recipients: "/etc/p.txt".into(),
                title: BTreeMap::new()
            }
        );
        assert!("politics".parse::<DeskSpec>().is_err());
    }
}
