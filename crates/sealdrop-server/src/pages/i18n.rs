//! Localisation with Fluent: one `.ftl` file per language under
//! `static/locales/`, compiled in. The language comes from the URL only.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the pages are available in.
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
    pub const ALL: &'static [Lang] = &[
        Lang::En,
        Lang::Ar,
        Lang::Fa,
        Lang::Ku,
        Lang::Tr,
        Lang::Fr,
        Lang::Es,
        Lang::Ru,
    ];

    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.iter().copied().find(|l| l.tag() == tag)
    }

    /// The URL segment and HTML `lang` value.
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

    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ar => "العربية",
            Lang::Fa => "فارسی",
            Lang::Ku => "Kurdî (Kurmancî)",
            Lang::Tr => "Türkçe",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::Ru => "Русский",
        }
    }

    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar | Lang::Fa)
    }

    /// The HTML `dir` value of text in this language.
    pub fn dir(self) -> &'static str {
        if self.is_rtl() {
            "rtl"
        } else {
            "ltr"
        }
    }

    pub fn prefix(self) -> String {
        format!("/{}", self.tag())
    }

    /// The message file of this language.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../../../static/locales/en.ftl"),
            Lang::Ar => include_str!("../../../../static/locales/ar.ftl"),
            Lang::Fa => include_str!("../../../../static/locales/fa.ftl"),
            Lang::Ku => include_str!("../../../../static/locales/ku.ftl"),
            Lang::Tr => include_str!("../../../../static/locales/tr.ftl"),
            Lang::Fr => include_str!("../../../../static/locales/fr.ftl"),
            Lang::Es => include_str!("../../../../static/locales/es.ftl"),
            Lang::Ru => include_str!("../../../../static/locales/ru.ftl"),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static Vec<(Lang, Bundle)> {
    static BUNDLES: OnceLock<Vec<(Lang, Bundle)>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        Lang::ALL
            .iter()
            .map(|&lang| {
                let resource = FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(
                    |(_, errors)| panic!("{}.ftl does not parse: {errors:?}", lang.tag()),
                );
                let id = lang.tag().parse().expect("valid language tag");
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // In right-to-left languages Fluent wraps placeables in
                // FSI/PDI, which pages turn into <bdi>: a Latin number or unit
                // inside Arabic text keeps its own direction.
                bundle.set_use_isolating(lang.is_rtl());
                // Numbers Fluent formats itself (a day count in a plural)
                // in the page's digits.
                match lang {
                    Lang::Ar => bundle.set_formatter(Some(arabic_indic_number)),
                    Lang::Fa => bundle.set_formatter(Some(persian_number)),
                    _ => {}
                }
                bundle
                    .add_resource(resource)
                    .expect("no duplicate messages");
                (lang, bundle)
            })
            .collect()
    })
}

fn arabic_indic_number<M>(value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(number_in(Lang::Ar, &n.as_string())),
        _ => None,
    }
}

fn persian_number<M>(value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(number_in(Lang::Fa, &n.as_string())),
        _ => None,
    }
}

/// A number written with ASCII digits (and `.` for decimals), in the digits
/// readers of `lang` expect: Arabic-Indic on Arabic pages, Persian (Extended
/// Arabic-Indic) on Persian pages, with the Arabic decimal separator;
/// unchanged elsewhere.
pub fn number_in(lang: Lang, ascii: &str) -> String {
    let zero = match lang {
        Lang::Ar => '\u{0660}',
        Lang::Fa => '\u{06F0}',
        _ => return ascii.to_owned(),
    };
    ascii
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(zero as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            '.' => '\u{066B}',
            other => other,
        })
        .collect()
}

fn bundle(lang: Lang) -> &'static Bundle {
    &bundles()
        .iter()
        .find(|(l, _)| *l == lang)
        .expect("every language has a bundle")
        .1
}

/// Message ids of a language's file.
pub fn message_ids(lang: Lang) -> Vec<String> {
    lang.source()
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim()))
        .filter(|id| !id.is_empty() && !id.starts_with('#') && !id.starts_with(' '))
        .map(str::to_owned)
        .collect()
}

/// The text of message `id` in `lang`, with `args`; falls back to English.
pub fn text(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    for candidate in [lang, Lang::En] {
        let b = bundle(candidate);
        if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return b
                .format_pattern(pattern, Some(&fluent_args), &mut errors)
                .into_owned();
        }
    }
    id.to_owned()
}
