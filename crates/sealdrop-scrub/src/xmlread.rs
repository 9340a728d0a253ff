//! Reading the XML parts of office documents for `inspect`: elements by
//! local name with their attributes, and texts with the element they are
//! in, within the caps on depth and events. (Cleaning rewrites XML with
//! `xmlfilter`, which resolves namespaces; reading for findings is
//! deliberately prefix-blind, so that it over-reports rather than misses.)

use quick_xml::events::Event;

use super::limits::{MAX_XML_DEPTH, MAX_XML_EVENTS};

/// A node of an XML part as `walk` hands it out.
pub(crate) enum Node<'a> {
    Open {
        local: &'a str,
        attributes: &'a [(String, String)],
    },
    Text {
        /// The element the text is in.
        inside: &'a str,
        /// Every open element, outermost first (`inside` is the last).
        ancestors: &'a [String],
        text: &'a str,
    },
}

/// Visits the elements and texts of `xml` by local name, within the caps.
pub(crate) fn walk(xml: &[u8], mut visit: impl FnMut(Node)) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    for _ in 0..MAX_XML_EVENTS {
        buf.clear();
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?
        {
            Event::Start(start) => {
                let local = open_node(&start, &mut visit);
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(format!("nested deeper than {MAX_XML_DEPTH} levels"));
                }
                stack.push(local);
            }
            Event::Empty(start) => {
                open_node(&start, &mut visit);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(text) => {
                if let Some(inside) = stack.last() {
                    visit(Node::Text {
                        inside,
                        ancestors: &stack,
                        text: text.as_ref(),
                    });
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
    Err(format!("more than {MAX_XML_EVENTS} XML events"))
}

/// Hands an element's opening to `visit`; returns its local name.
fn open_node(start: &quick_xml::events::BytesStart, visit: &mut impl FnMut(Node)) -> String {
    let local = start.local_name().as_ref().to_owned();
    let attributes: Vec<(String, String)> = start
        .attributes()
        .flatten()
        .map(|a| (a.key.local_name().as_ref().to_owned(), a.value.into_owned()))
        .collect();
    visit(Node::Open {
        local: &local,
        attributes: &attributes,
    });
    local
}

pub(crate) fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
