//! Every sample page (owner, manager and public) and every fragment, checked for what the CSP,
//! the CSRF protection and accessibility need. The HTML is read with a small tag scanner:
//! the templates are ours and regular, so a full parser is not needed to find attributes.

use std::collections::{HashMap, HashSet};

use nexus_web::samples::SAMPLE_CSRF;
use nexus_web::{render_fragment_samples, render_samples};

const HOSTILE_RAW: &str = "<script>alert(1)</script>";
const HOSTILE_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

#[derive(Debug)]
struct Tag {
    name: String,
    closing: bool,
    attrs: Vec<(String, Option<String>)>,
    /// Byte offsets of `<` and just after `>`.
    start: usize,
    end: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_deref().unwrap_or(""))
    }
}

fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        if html[start..].starts_with("<!--") {
            at = html[start..]
                .find("-->")
                .map_or(html.len(), |end| start + end + 3);
            continue;
        }
        if html[start..].starts_with("<!") {
            at = html[start..]
                .find('>')
                .map_or(html.len(), |end| start + end + 1);
            continue;
        }
        let mut index = start + 1;
        let closing = bytes.get(index) == Some(&b'/');
        if closing {
            index += 1;
        }
        let name_start = index;
        while index < bytes.len() && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'-')
        {
            index += 1;
        }
        if index == name_start {
            at = start + 1;
            continue;
        }
        let name = html[name_start..index].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while index < bytes.len() && bytes[index].is_ascii_whitespace() {
                index += 1;
            }
            if index >= bytes.len() {
                break;
            }
            if bytes[index] == b'>' {
                index += 1;
                break;
            }
            if bytes[index] == b'/' {
                index += 1;
                continue;
            }
            let key_start = index;
            while index < bytes.len()
                && !bytes[index].is_ascii_whitespace()
                && !matches!(bytes[index], b'=' | b'>' | b'/')
            {
                index += 1;
            }
            let key = html[key_start..index].to_ascii_lowercase();
            let mut value = None;
            if bytes.get(index) == Some(&b'=') {
                index += 1;
                let quote = bytes[index];
                if quote == b'"' || quote == b'\'' {
                    let value_start = index + 1;
                    let value_end = html[value_start..]
                        .find(quote as char)
                        .map_or(html.len(), |end| value_start + end);
                    value = Some(html[value_start..value_end].to_owned());
                    index = value_end + 1;
                } else {
                    let value_start = index;
                    while index < bytes.len()
                        && !bytes[index].is_ascii_whitespace()
                        && bytes[index] != b'>'
                    {
                        index += 1;
                    }
                    value = Some(html[value_start..index].to_owned());
                }
            }
            attrs.push((key, value));
        }
        found.push(Tag {
            name,
            closing,
            attrs,
            start,
            end: index,
        });
        at = index;
    }
    found
}

/// The text between a tag and its closing tag, with inner tags removed.
fn inner_text(html: &str, found: &[Tag], open: usize) -> String {
    let name = &found[open].name;
    let mut depth = 0;
    for tag in &found[open + 1..] {
        if &tag.name == name {
            if tag.closing {
                if depth == 0 {
                    return strip_tags(&html[found[open].end..tag.start]);
                }
                depth -= 1;
            } else {
                depth += 1;
            }
        }
    }
    String::new()
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.trim().to_owned()
}

fn all() -> Vec<(String, String)> {
    render_samples()
        .into_iter()
        .chain(render_fragment_samples())
        .collect()
}

fn page(pages: &[(String, String)], wanted: &str) -> String {
    pages
        .iter()
        .find(|(name, _)| name == wanted)
        .map(|(_, html)| html.clone())
        .unwrap_or_else(|| panic!("no sample {wanted}"))
}

#[test]
fn every_page_family_is_rendered_for_owner_and_manager() {
    let names: HashSet<String> = render_samples().into_iter().map(|(name, _)| name).collect();
    for page in [
        "sign-out",
        "setup",
        "setup-shop",
        "setup-branch",
        "setup-products",
        "setup-cashier",
        "setup-till",
        "setup-till-code",
        "overview",
        "sales",
        "vat",
        "items",
        "receipts",
        "receipt",
        "products",
        "product-new",
        "product-edit",
        "products-import",
        "categories",
        "customers",
        "customer-edit",
        "customer-account",
        "debtors",
        "inventory",
        "inventory-receive",
        "inventory-adjust",
        "inventory-count",
        "inventory-transfer",
        "inventory-movements",
        "orders",
        "order",
        "staff",
        "staff-new",
        "staff-edit",
        "shifts",
        "performance",
        "branches",
        "tills",
        "till-new",
        "till-enrolment",
        "conflicts",
        "settings",
        "error-403",
        "error-404",
        "error-500",
    ] {
        for role in ["owner", "manager"] {
            assert!(
                names.contains(&format!("{role}/{page}")),
                "{role}/{page} missing"
            );
        }
    }
    for page in ["sign-up", "sign-in", "forgot-password", "reset-password"] {
        assert!(
            names.contains(&format!("public/{page}")),
            "public/{page} missing"
        );
    }
}

#[test]
fn hostile_names_show_as_text() {
    let pages = all();
    let mut escaped_in = 0;
    for (name, html) in &pages {
        assert!(
            !html.contains(HOSTILE_RAW),
            "{name} contains the raw hostile name"
        );
        assert!(!html.contains("alert(1)</script>"), "{name}");
        if html.contains(HOSTILE_ESCAPED) {
            escaped_in += 1;
        }
    }
    for wanted in [
        "owner/products",
        "owner/receipt",
        "manager/staff",
        "owner/tills",
        "owner/sales",
        "public/sign-up-with-errors",
    ] {
        assert!(
            page(&pages, wanted).contains(HOSTILE_ESCAPED),
            "{wanted} should show the hostile name as text"
        );
    }
    assert!(
        escaped_in > 20,
        "only {escaped_in} pages show the hostile name"
    );
}

#[test]
fn every_post_form_carries_the_csrf_token() {
    let mut forms = 0;
    for (name, html) in all() {
        let found = tags(&html);
        for (index, tag) in found.iter().enumerate() {
            if tag.name != "form" || tag.closing {
                continue;
            }
            let method = tag.attr("method").unwrap_or("get").to_ascii_lowercase();
            let close = found[index..]
                .iter()
                .find(|candidate| candidate.name == "form" && candidate.closing)
                .unwrap_or_else(|| panic!("{name}: unclosed form"));
            let inside: Vec<&Tag> = found[index..]
                .iter()
                .take_while(|candidate| candidate.start < close.start)
                .collect();
            if method == "post" {
                forms += 1;
                let token = inside.iter().find(|input| {
                    input.name == "input"
                        && input.attr("name") == Some("csrf")
                        && input.attr("type") == Some("hidden")
                });
                assert_eq!(
                    token.and_then(|input| input.attr("value")),
                    Some(SAMPLE_CSRF),
                    "{name}: a POST form to {:?} lacks the csrf field",
                    tag.attr("action")
                );
                assert!(
                    tag.attr("action")
                        .is_some_and(|action| action.starts_with('/')),
                    "{name}: a form without a local action"
                );
            } else {
                assert_eq!(method, "get", "{name}: forms are GET or POST");
                assert!(
                    !inside
                        .iter()
                        .any(|input| input.attr("name") == Some("csrf")),
                    "{name}: the token must not leak into a GET URL"
                );
            }
        }
        if html.contains("<html") {
            assert!(
                html.contains(&format!(
                    "<meta name=\"csrf-token\" content=\"{SAMPLE_CSRF}\">"
                )),
                "{name}: the page gives the script its token"
            );
        }
    }
    assert!(forms > 60, "only {forms} POST forms checked");
}

#[test]
fn markup_is_allowed_by_the_content_security_policy() {
    for (name, html) in all() {
        let found = tags(&html);
        for tag in &found {
            for (key, value) in &tag.attrs {
                assert_ne!(key, "style", "{name}: style attribute on <{}>", tag.name);
                let handler = key.len() > 2
                    && key.starts_with("on")
                    && key[2..].bytes().all(|byte| byte.is_ascii_lowercase());
                assert!(!handler, "{name}: event handler {key} on <{}>", tag.name);
                assert!(!key.starts_with("hx-on"), "{name}: hx-on needs eval");
                let value = value.as_deref().unwrap_or("").to_ascii_lowercase();
                assert!(
                    !value.trim_start().starts_with("javascript:"),
                    "{name}: javascript: URL"
                );
            }
            assert_ne!(tag.name, "style", "{name}: <style> element");
            if tag.name == "script" && !tag.closing {
                let src = tag.attr("src").unwrap_or("");
                assert!(
                    src.starts_with("/assets/"),
                    "{name}: inline or foreign script"
                );
            }
            if matches!(
                tag.name.as_str(),
                "link" | "img" | "iframe" | "object" | "embed"
            ) {
                let url = tag.attr("href").or(tag.attr("src")).unwrap_or("");
                assert!(
                    url.starts_with('/') || url.starts_with("data:"),
                    "{name}: foreign {url}"
                );
            }
        }
        if html.contains("<head>") {
            let config = found
                .iter()
                .find(|tag| tag.name == "meta" && tag.attr("name") == Some("htmx-config"))
                .unwrap_or_else(|| panic!("{name}: no htmx-config"));
            let content = config.attr("content").unwrap_or("");
            assert!(
                content.contains("\"includeIndicatorStyles\":false"),
                "{name}"
            );
            assert!(content.contains("\"allowEval\":false"), "{name}");
        }
    }
}

#[test]
fn pages_have_one_h1_a_title_landmarks_and_headings_in_order() {
    for (name, html) in render_samples() {
        let found = tags(&html);
        let count = |tag_name: &str| {
            found
                .iter()
                .filter(|tag| tag.name == tag_name && !tag.closing)
                .count()
        };
        assert_eq!(count("h1"), 1, "{name}: exactly one h1");
        assert_eq!(count("main"), 1, "{name}: one main");
        assert!(count("header") >= 1, "{name}: a header");
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{name}: lang"
        );
        assert!(
            html.contains("<a class=\"skip-link\" href=\"#main\">"),
            "{name}: skip link"
        );
        assert!(html.contains("<main id=\"main\""), "{name}: skip target");
        if !name.starts_with("public/") {
            let main_navs = found
                .iter()
                .filter(|tag| tag.name == "nav" && tag.attr("aria-label") == Some("Main"))
                .count();
            assert_eq!(main_navs, 1, "{name}: the main navigation");
        }
        for nav in found.iter().filter(|tag| tag.name == "nav" && !tag.closing) {
            assert!(nav.attr("aria-label").is_some(), "{name}: unlabelled nav");
        }
        let head_end = html
            .find("</head>")
            .unwrap_or_else(|| panic!("{name}: no head"));
        let head = &html[..head_end];
        assert_eq!(head.matches("<title>").count(), 1, "{name}: one title");
        let title_start = head.find("<title>").unwrap_or(0) + "<title>".len();
        let title = &head[title_start..head.find("</title>").unwrap_or(title_start)];
        assert!(
            title.ends_with("· Nexus") && title.len() > 10,
            "{name}: title {title:?}"
        );
        let mut previous = 0;
        for tag in found.iter().filter(|tag| !tag.closing) {
            let level = match tag.name.as_str() {
                "h1" => 1,
                "h2" => 2,
                "h3" => 3,
                "h4" => 4,
                "h5" | "h6" => panic!("{name}: headings deeper than h4"),
                _ => continue,
            };
            assert!(level <= previous + 1, "{name}: h{level} after h{previous}");
            previous = level;
        }
    }
}

#[test]
fn every_field_has_a_label_and_every_reference_resolves() {
    for (name, html) in all() {
        let found = tags(&html);
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for tag in &found {
            if let Some(id) = tag.attr("id") {
                *ids.entry(id).or_default() += 1;
            }
        }
        for (id, count) in &ids {
            assert_eq!(*count, 1, "{name}: id {id:?} used {count} times");
        }
        let labelled: HashSet<&str> = found
            .iter()
            .filter(|tag| tag.name == "label" && !tag.closing)
            .filter_map(|tag| tag.attr("for"))
            .collect();
        for (index, tag) in found.iter().enumerate() {
            if tag.closing {
                continue;
            }
            let is_field = match tag.name.as_str() {
                "input" => !matches!(tag.attr("type"), Some("hidden" | "submit" | "button")),
                "select" | "textarea" => true,
                _ => false,
            };
            if is_field {
                let has_label = tag.attr("id").is_some_and(|id| labelled.contains(id))
                    || tag
                        .attr("aria-label")
                        .is_some_and(|label| !label.trim().is_empty())
                    || tag.attr("aria-labelledby").is_some();
                assert!(
                    has_label,
                    "{name}: <{} name={:?}> has no label",
                    tag.name,
                    tag.attr("name")
                );
                assert!(tag.attr("name").is_some(), "{name}: a field without a name");
            }
            for key in ["aria-describedby", "aria-labelledby"] {
                if let Some(references) = tag.attr(key) {
                    for reference in references.split_whitespace() {
                        assert!(
                            ids.contains_key(reference),
                            "{name}: {key} points at missing {reference:?}"
                        );
                    }
                }
            }
            if let Some(target) = tag.attr("for").filter(|_| tag.name == "label") {
                assert!(
                    ids.contains_key(target),
                    "{name}: label for missing {target:?}"
                );
            }
            if matches!(tag.name.as_str(), "button" | "a" | "summary") {
                let named = !inner_text(&html, &found, index).is_empty()
                    || tag
                        .attr("aria-label")
                        .is_some_and(|label| !label.is_empty());
                assert!(named, "{name}: <{}> without a name", tag.name);
            }
            if tag.name == "button" {
                assert!(tag.attr("type").is_some(), "{name}: button without a type");
            }
            if tag.name == "a" {
                assert!(
                    tag.attr("href").is_some_and(|href| !href.is_empty()),
                    "{name}: link without href"
                );
            }
            if tag.name == "table" {
                let rest = &html[tag.end..];
                let close = rest.find("</table>").unwrap_or(rest.len());
                assert!(
                    rest[..close].contains("<th"),
                    "{name}: a table without headers"
                );
            }
        }
    }
}

#[test]
fn amounts_and_times_are_for_people() {
    let pages = render_samples();
    let overview = page(&pages, "owner/overview");
    assert!(overview.contains("GHS 2,845.50"), "today's takings");
    assert!(overview.contains("up 12%"), "compared with yesterday");
    assert!(overview.contains("MTN MoMo") && overview.contains("AirtelTigo Money"));
    assert!(overview.contains("3 h ago"), "relative last contact");
    assert!(overview.contains("data-live-topics=\"sales stock tills\""));
    let receipt = page(&pages, "owner/receipt");
    assert!(receipt.contains("Tue 1 Dec 2026, 13:46"), "shop time");
    assert!(receipt.contains("NHIL") && receipt.contains("GETFund"));
    assert!(receipt.contains(">1.5<"), "quantities in units");
    assert!(!receipt.contains("1796"), "no epoch milliseconds");
    let tills = page(&pages, "owner/tills");
    assert!(tills.contains(">never<"), "a till that never synced");
    assert!(tills.contains("data-live-topics=\"tills\""));
    let enrolment = page(&pages, "owner/till-enrolment");
    assert!(
        enrolment
            .contains("nexus pos enroll --server https://nexus.example.com --code K7QF-29XD-MB4T")
    );
    assert!(enrolment.contains("<svg class=\"qr\""));
    let sales = page(&pages, "manager/sales");
    assert!(sales.contains("role=\"img\" aria-labelledby=\"sales-chart-title sales-chart-desc\""));
    assert!(
        sales.contains("-GHS 185.00"),
        "a refund-heavy day in the data table"
    );
    assert_eq!(
        sales.matches("download>Export CSV").count(),
        5,
        "every table exports"
    );
    // A manager cannot change settings or branches, and adds cashiers only.
    assert!(!page(&pages, "manager/settings").contains("method=\"post\""));
    assert!(page(&pages, "owner/settings").contains("method=\"post\""));
    assert!(!page(&pages, "manager/branches").contains("Add a branch"));
    let staff_new = page(&pages, "manager/staff-new");
    assert!(staff_new.contains("value=\"cashier\"") && !staff_new.contains("value=\"owner\""));
    // Passwords and PINs are never sent back into a page.
    for (name, html) in &pages {
        for tag in tags(html) {
            if tag.attr("type") == Some("password") {
                assert_eq!(
                    tag.attr("value"),
                    None,
                    "{name}: a password field with a value"
                );
            }
        }
    }
}

#[test]
fn fragments_render_alone() {
    for (name, html) in render_fragment_samples() {
        assert!(!html.contains("<html"), "{name}: a fragment is not a page");
        assert!(!html.contains("<main"), "{name}");
    }
    let fragments = render_fragment_samples();
    let import = page(&fragments, "fragment/import-running");
    assert!(
        import.contains("hx-trigger=\"every 1s\""),
        "a running import polls"
    );
    assert!(import.contains("<progress id=\"import-progress\" value=\"12000\" max=\"50000\""));
    let finished = page(&fragments, "fragment/import-finished");
    assert!(
        !finished.contains("hx-trigger"),
        "a finished import stops polling"
    );
    assert!(finished.contains("This barcode already belongs to Royal Aroma Rice 1kg."));
    let overview = page(&fragments, "fragment/overview");
    assert!(
        overview.contains("<h1>Overview</h1>"),
        "the content fragment has the heading"
    );
}
