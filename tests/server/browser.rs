//! Debian's chromium, headless, JavaScript disabled, driven over WebDriver:
//! a source fills the form in several languages, attaches files and submits;
//! the test decrypts what landed. Also checks the right-to-left layout and
//! takes the screenshots kept in docs/screenshots (refreshed with
//! `SEALDROP_UPDATE_SCREENSHOTS=1`).

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::webdriver::Driver;
use crate::common::*;
use sealdrop::server::pages::{text, Lang};

/// Waits for an element to appear (the answer to a form); returns its text.
pub fn wait_for(driver: &Driver, css: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(element) = driver.try_find(css) {
            return driver.text(&element);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {css} at {}",
            driver.url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sources_submit_in_several_languages_without_javascript() {
    let server = Server::start(&[]);
    let driver = Driver::start();

    // JavaScript really is off: <noscript> content is rendered as elements.
    driver.goto("data:text/html,<noscript><p id=off>js-off</p></noscript>");
    assert_eq!(
        driver.text(&driver.find("#off")),
        "js-off",
        "JavaScript must be disabled"
    );

    let files_dir = server.dir.path().join("source-files");
    fs::create_dir(&files_dir).unwrap();
    let mut sent = Vec::new();
    for (lang, message) in [
        (Lang::En, "Browser test: the documents are attached."),
        (Lang::Ar, "اختبار المتصفح: الوثائق مرفقة. report.pdf"),
        (Lang::Fa, "آزمایش مرورگر: اسناد پیوست شده‌اند."),
        (Lang::Ku, "Ceribandina gerokê: belge hatine pêvekirin."),
        (Lang::Ru, "Проверка браузера: документы приложены."),
    ] {
        let a = files_dir.join(format!("{}-notes.txt", lang.tag()));
        let b = files_dir.join(format!("{}-photo.bin", lang.tag()));
        fs::write(&a, format!("notes for {}\n", lang.tag())).unwrap();
        fs::write(
            &b,
            (0..50_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
        )
        .unwrap();
        let base = format!("http://{}/{}/", server.addr, lang.tag());
        driver.goto(&base);
        assert_eq!(driver.title(), text(lang, "page-title", &[]));
        driver.send_keys(&driver.find("#message"), message);
        driver.send_keys(
            &driver.find("#attachment"),
            &format!("{}\n{}", a.display(), b.display()),
        );
        driver.click(&driver.find("button[type=submit]"));
        let codename = wait_for(&driver, "#codename");
        assert!(driver.url().ends_with(&format!("/{}/submit", lang.tag())));
        assert_eq!(driver.title(), text(lang, "received-title", &[]));
        // The codename, in the page's own digits: 32 of them in 8 groups.
        let digits: Vec<char> = codename.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(digits.len(), 32, "{codename}");
        let expected_script = match lang {
            Lang::Ar => '\u{0660}'..='\u{0669}',
            Lang::Fa => '\u{06F0}'..='\u{06F9}',
            _ => '0'..='9',
        };
        assert!(
            digits.iter().all(|d| expected_script.contains(d)),
            "{codename}"
        );
        sent.push((
            message.to_owned(),
            fs::read(&a).unwrap(),
            fs::read(&b).unwrap(),
        ));
    }

    // What landed decrypts to exactly what the browser sent.
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), sent.len());
    let mut found: Vec<(String, Vec<Vec<u8>>)> = sealed
        .iter()
        .map(|f| {
            let (message, files) = open(&fs::read(f).unwrap(), &server.key);
            (
                String::from_utf8(message.unwrap()).unwrap(),
                files.into_iter().map(|(_, d)| d).collect(),
            )
        })
        .collect();
    found.sort();
    sent.sort();
    for ((message, files), (sent_message, a, b)) in found.iter().zip(&sent) {
        // Browsers normalize line breaks in textareas to CRLF; there are none here.
        assert_eq!(message, sent_message);
        assert_eq!(files, &vec![a.clone(), b.clone()]);
    }
}

/// Right edge of an element.
fn right(r: (f64, f64, f64, f64)) -> f64 {
    r.0 + r.2
}

#[test]
fn right_to_left_layout_mirrors_and_screenshots_are_taken() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let out_dir = if std::env::var("SEALDROP_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    fs::create_dir_all(&out_dir).unwrap();
    for (width, height, label) in [(390, 844, "phone"), (1280, 900, "desktop")] {
        driver.set_window(width, height);
        for lang in [Lang::En, Lang::Ar] {
            driver.goto(&format!("http://{}/{}/", server.addr, lang.tag()));
            let label_rect = driver.rect(&driver.find("label[for=message]"));
            let textarea = driver.rect(&driver.find("#message"));
            let heading = driver.rect(&driver.find("h1"));
            let button = driver.rect(&driver.find("button[type=submit]"));
            if lang.is_rtl() {
                // Text starts at the right: label and button hug the textarea's right edge.
                assert!(
                    (right(label_rect) - right(textarea)).abs() < 2.0,
                    "{label}: label {label_rect:?} textarea {textarea:?}"
                );
                assert!(
                    (right(button) - right(textarea)).abs() < 2.0,
                    "{label}: button {button:?}"
                );
                assert!(
                    label_rect.0 > textarea.0 + 10.0,
                    "{label}: label not at the right"
                );
                assert!(
                    (right(heading) - right(textarea)).abs() < 2.0 || heading.2 >= textarea.2 - 1.0
                );
            } else {
                assert!(
                    (label_rect.0 - textarea.0).abs() < 2.0,
                    "{label}: label {label_rect:?} textarea {textarea:?}"
                );
                assert!((button.0 - textarea.0).abs() < 2.0);
            }
            // Fits the width: no horizontal scrolling on a phone.
            assert!(
                right(textarea) <= width as f64,
                "{label}: textarea overflows {textarea:?}"
            );
            let png = driver.screenshot();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 5_000,
                "a real screenshot"
            );
            fs::write(out_dir.join(format!("{}-{label}.png", lang.tag())), png).unwrap();
        }
    }
}

/// The language list marks the page's own language for the eye as for
/// screen readers (`aria-current`), and Arabic-script names are set larger,
/// so that they read as large as Latin ones.
#[test]
fn the_current_language_is_marked_and_arabic_script_names_are_legible() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    for lang in ["ar", "ru", "en"] {
        driver.goto(&format!("http://{}/{lang}/", server.addr));
        let current = driver.find("nav a[aria-current=page]");
        assert_eq!(driver.css_value(&current, "font-weight"), "700", "{lang}");
        assert_eq!(
            driver.find_all("nav a[aria-current]").len(),
            1,
            "one current language on /{lang}/"
        );
        let current_lang = driver.css_value(&current, "border-bottom-style");
        assert_eq!(
            current_lang, "solid",
            "{lang}: the current language is underlined"
        );
        let other = driver.find(&format!("nav a:not([hreflang={lang}])"));
        assert_eq!(driver.css_value(&other, "font-weight"), "400", "{lang}");
        let size = |css: &str| -> f64 {
            let link = driver.find(css);
            driver
                .css_value(&link, "font-size")
                .trim_end_matches("px")
                .parse()
                .unwrap()
        };
        let (arabic, persian, latin) = (
            size("nav a[hreflang=ar]"),
            size("nav a[hreflang=fa]"),
            size("nav a[hreflang=fr]"),
        );
        assert!(
            arabic >= latin * 1.1 && persian >= latin * 1.1,
            "{arabic} {persian} {latin}"
        );
    }
}

/// A small phone at 200% zoom is 180 CSS pixels wide, and 165 of them are
/// left beside a classic 15-pixel scrollbar: no page may scroll sideways at
/// either width, in any language (long words break, boxes shrink).
#[test]
fn no_page_scrolls_sideways_at_180_css_pixels() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let mut overflows = Vec::new();
    for width in [180, 165] {
        driver.set_window(width, 900);
        for lang in Lang::ALL {
            let tag = lang.tag();
            for path in ["/", "/replies", "/no-such-page"] {
                driver.goto(&format!("http://{}/{tag}{path}", server.addr));
                let widths = driver.execute(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
                );
                let (scroll, client) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
                assert!(
                    (client - f64::from(width)).abs() <= 1.0,
                    "the page is {client} px wide, not {width}: the window did not shrink"
                );
                if scroll > client {
                    overflows.push(format!("/{tag}{path} at {width} px: {scroll} px wide"));
                }
            }
        }
    }
    assert!(
        overflows.is_empty(),
        "pages scroll sideways:\n{}",
        overflows.join("\n")
    );
}
