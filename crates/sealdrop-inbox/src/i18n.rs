//! The inbox's words in the eight languages of the source pages, with
//! Fluent (`locales/*.ftl`, compiled in). English is the source; the
//! others are machine-made like the source pages' and say so in the
//! window. Arabic and Persian lay the whole window out right to left.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ar,
    Fa,
    Ku,
    Tr,
    Fr,
    Es,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 8] = [
        Lang::En,
        Lang::Ar,
        Lang::Fa,
        Lang::Ku,
        Lang::Tr,
        Lang::Fr,
        Lang::Es,
        Lang::Ru,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Fa => "fa",
            Lang::Ku => "ku",
            Lang::Tr => "tr",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Ru => "ru",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The language a locale setting names (`ar_SY.UTF-8`, `fa`, `kmr`).
    pub fn from_locale(locale: &str) -> Option<Lang> {
        let base = locale
            .split(['.', '@'])
            .next()
            .unwrap_or("")
            .split(['_', '-'])
            .next()
            .unwrap_or("");
        match base {
            "kmr" => Some(Lang::Ku),
            other => Lang::from_tag(other),
        }
    }

    /// From the environment, as gettext reads it: `LANGUAGE` (a list),
    /// `LC_ALL`, `LC_MESSAGES`, `LANG`; English if none is one of ours.
    pub fn from_environment() -> Lang {
        let get = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(list) = get("LANGUAGE") {
            if let Some(lang) = list.split(':').find_map(Lang::from_locale) {
                return lang;
            }
        }
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .find_map(get)
            .and_then(|v| Lang::from_locale(&v))
            .unwrap_or(Lang::En)
    }

    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar | Lang::Fa)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.ftl"),
            Lang::Ar => include_str!("../locales/ar.ftl"),
            Lang::Fa => include_str!("../locales/fa.ftl"),
            Lang::Ku => include_str!("../locales/ku.ftl"),
            Lang::Tr => include_str!("../locales/tr.ftl"),
            Lang::Fr => include_str!("../locales/fr.ftl"),
            Lang::Es => include_str!("../locales/es.ftl"),
            Lang::Ru => include_str!("../locales/ru.ftl"),
        }
    }
}

/// The words of one language (English where a message is missing).
pub struct Words {
    pub lang: Lang,
    bundle: FluentBundle<FluentResource>,
    english: FluentBundle<FluentResource>,
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let resource =
        FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(resource, _)| resource);
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().expect("our tags parse");
    let mut bundle = FluentBundle::new(vec![id]);
    // Unicode isolation marks around arguments would show up in the
    // accessibility tree and in copied text; arguments are made safe by
    // the caller (`text::visible`) instead.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    bundle
}

impl Words {
    pub fn new(lang: Lang) -> Words {
        Words {
            lang,
            bundle: bundle(lang),
            english: bundle(Lang::En),
        }
    }

    /// Message `id`.
    pub fn get(&self, id: &str) -> String {
        self.format(id, &[])
    }

    /// Message `id` with its arguments.
    pub fn format(&self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            // A whole number is given as one, so that each language's
            // plural forms choose the words ("1 source", "3 sources").
            match value.parse::<i64>() {
                Ok(number) => fluent_args.set(*name, FluentValue::from(number)),
                Err(_) => fluent_args.set(*name, FluentValue::from(*value)),
            }
        }
        for bundle in [&self.bundle, &self.english] {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, Some(&fluent_args), &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of an .ftl file, in order (each `id = …` line).
    fn ids(source: &str) -> Vec<String> {
        assert!(FluentResource::try_new(source.to_owned()).is_ok(), "parses");
        source
            .lines()
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id))
            .filter(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_language_has_every_message_and_says_it_is_machine_made() {
        let english = ids(Lang::En.source());
        for lang in Lang::ALL {
            let source = lang.source();
            assert_eq!(
                ids(source),
                english,
                "{lang:?}: the same messages, in the same order"
            );
            if lang != Lang::En {
                assert!(
                    source.lines().next().unwrap().contains("MACHINE-MADE"),
                    "{lang:?}"
                );
            }
            let words = Words::new(lang);
            for id in &english {
                let text = words.format(id, &[("name", "x"), ("count", "3")]);
                assert!(!text.is_empty() && text != *id, "{lang:?} {id}");
            }
        }
    }

    #[test]
    fn the_language_comes_from_the_locale() {
        assert_eq!(Lang::from_locale("ar_SY.UTF-8"), Some(Lang::Ar));
        assert_eq!(Lang::from_locale("fa_IR"), Some(Lang::Fa));
        assert_eq!(Lang::from_locale("kmr_TR.UTF-8"), Some(Lang::Ku));
        assert_eq!(Lang::from_locale("de_DE.UTF-8"), None);
        assert!(Lang::Ar.is_rtl() && Lang::Fa.is_rtl() && !Lang::Ku.is_rtl());
    }
}
