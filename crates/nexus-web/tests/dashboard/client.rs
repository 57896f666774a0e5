//! A browser without a browser: a cookie jar, the CSRF token of the last page, and redirects
//! followed by hand so that tests can look at each answer.

use std::collections::BTreeMap;
use std::sync::Mutex;

use nexus_testkit::{Owner, TestServer};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// One answer: its status, where it redirects, its `Set-Cookie` lines and its body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The text of the page with tags removed and whitespace squeezed: what a person reads.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for character in self.body.chars() {
            match character {
                '<' => {
                    in_tag = true;
                    text.push(' ');
                }
                '>' => in_tag = false,
                _ if !in_tag => text.push(character),
                _ => {}
            }
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        decode_entities(&text)
    }

    /// What the form posting to `action` would send as shown: its inputs' values, the
    /// selected option of each select, ticked boxes only, and textareas' text. Submit buttons
    /// and files are left out.
    pub fn form(&self, action: &str) -> Vec<(String, String)> {
        let marker = format!("action=\"{action}\"");
        let Some(at) = self.body.find(&marker) else {
            panic!("no form posting to {action}: {}", self.text());
        };
        let end = at + self.body[at..].find("</form>").expect("the form ends");
        let form = &self.body[at..end];
        let attribute = |tag: &str, name: &str| -> Option<String> {
            let key = format!(" {name}=\"");
            let start = tag.find(&key)? + key.len();
            let stop = start + tag[start..].find('"')?;
            Some(decode_entities(&tag[start..stop]))
        };
        let mut fields = Vec::new();
        let mut rest = form;
        while let Some(open) = rest.find('<') {
            rest = &rest[open..];
            let close = rest.find('>').unwrap_or(rest.len());
            let tag = &rest[..close];
            if tag.starts_with("<input") {
                let kind = attribute(tag, "type").unwrap_or_else(|| "text".to_owned());
                let checked = tag.contains(" checked");
                if let Some(name) = attribute(tag, "name") {
                    let wanted = match kind.as_str() {
                        "submit" | "button" | "file" => false,
                        "checkbox" | "radio" => checked,
                        _ => true,
                    };
                    if wanted {
                        fields.push((name, attribute(tag, "value").unwrap_or_default()));
                    }
                }
            } else if tag.starts_with("<select") {
                let name = attribute(tag, "name").unwrap_or_default();
                let select_end = rest.find("</select>").unwrap_or(rest.len());
                let options = &rest[..select_end];
                let mut first = None;
                let mut chosen = None;
                for option in options.split("<option").skip(1) {
                    let option_tag = option.split('>').next().unwrap_or_default();
                    let value = attribute(option_tag, "value").unwrap_or_default();
                    first.get_or_insert(value.clone());
                    if option_tag.contains(" selected") {
                        chosen = Some(value);
                    }
                }
                fields.push((name, chosen.or(first).unwrap_or_default()));
                rest = &rest[select_end..];
                continue;
            } else if tag.starts_with("<textarea") {
                let name = attribute(tag, "name").unwrap_or_default();
                let text_end = rest.find("</textarea>").unwrap_or(rest.len());
                fields.push((name, decode_entities(&rest[close + 1..text_end])));
                rest = &rest[text_end..];
                continue;
            }
            rest = &rest[close.min(rest.len())..];
            if rest.len() > 1 {
                rest = &rest[1..];
            } else {
                break;
            }
        }
        fields.retain(|(name, _)| name != "csrf");
        fields
    }

    /// The first `value="…"` of the input named `name`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let value_at = tag.find("value=\"")? + "value=\"".len();
        let value_end = value_at + tag[value_at..].find('"')?;
        Some(tag[value_at..value_end].to_owned())
    }
}

pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<String>,
}

impl Browser {
    pub fn new(server: &TestServer) -> Self {
        Self::at(&server.base_url)
    }

    pub fn at(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    /// A second browser holding the same cookies: a stolen or replayed session.
    pub fn clone_session(&self) -> Self {
        let copy = Self::at(&self.base);
        *copy.cookies.lock().expect("jar") = self.cookies.lock().expect("jar").clone();
        *copy.csrf.lock().expect("csrf") = self.csrf();
        copy
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    pub fn csrf(&self) -> String {
        self.csrf.lock().expect("csrf").clone()
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// A GET as htmx sends it: only the fragment comes back.
    pub async fn get_fragment(&self, path: &str) -> Page {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("HX-Request", "true");
        self.send(request).await
    }

    /// Posts a form as `Page::form` read it, with some fields changed (or added).
    pub async fn submit(
        &self,
        path: &str,
        mut fields: Vec<(String, String)>,
        changes: &[(&str, &str)],
    ) -> Page {
        for (name, value) in changes {
            match fields.iter_mut().find(|(field, _)| field == name) {
                Some(field) => field.1 = (*value).to_owned(),
                None => fields.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.post(path, &borrowed).await
    }

    /// Posts a form with the CSRF token of the last page read.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields: no CSRF token is added.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded(fields);
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Posts a multipart form with one file, with the CSRF token as a field (built by hand:
    /// the workspace's HTTP client has no multipart feature, and one form is all tests send).
    pub async fn post_file(&self, path: &str, field: &str, name: &str, bytes: &[u8]) -> Page {
        self.post_file_with(path, &[], field, name, bytes).await
    }

    /// [`Browser::post_file`] with text fields besides the token.
    pub async fn post_file_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        field: &str,
        name: &str,
        bytes: &[u8],
    ) -> Page {
        let boundary = "nexus-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        let csrf = self.csrf();
        for (key, value) in std::iter::once(("csrf", csrf.as_str())).chain(fields.iter().copied()) {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(request).await
    }

    /// Follows redirects (303, 302) until a page that is not one.
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            match (&page.status, &page.location) {
                (301..=303 | 307, Some(location)) => {
                    let location = location.clone();
                    let path = location
                        .strip_prefix(&self.base)
                        .unwrap_or(&location)
                        .to_owned();
                    page = self.get(&path).await;
                }
                _ => return page,
            }
        }
        panic!("more than 10 redirects");
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let jar: String = self
            .cookies
            .lock()
            .expect("jar")
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if jar.is_empty() {
            request
        } else {
            request.header(COOKIE, jar)
        };
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let set_cookies: Vec<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect();
        {
            let mut cookies = self.cookies.lock().expect("jar");
            for line in &set_cookies {
                let pair = line.split(';').next().unwrap_or_default();
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let expired = line.contains("Max-Age=0");
                if expired || value.is_empty() {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().await.unwrap_or_default();
        if let Some(token) = meta_csrf(&body) {
            *self.csrf.lock().expect("csrf") = token;
        }
        Page {
            status,
            location,
            set_cookies,
            headers,
            body,
        }
    }

    /// Signs in through the sign-in form and lands on the page it leads to.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, 200, "sign-in page: {}", form.body);
        let answer = self
            .post("/sign-in", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            answer.status,
            303,
            "signing in as {email}: {}",
            Page::text(&answer)
        );
        self.follow(answer).await
    }

    pub async fn signed_in(server: &TestServer, owner: &Owner) -> Self {
        let browser = Self::new(server);
        browser.sign_in(&owner.email, &owner.password).await;
        browser
    }
}

/// The entities askama writes, read back as the characters a person sees.
fn decode_entities(text: &str) -> String {
    [
        ("&#39;", "'"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(text.to_owned(), |text, (entity, character)| {
        text.replace(entity, character)
    })
}

fn meta_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf-token\" content=\"";
    let at = body.find(marker)? + marker.len();
    let end = at + body[at..].find('"')?;
    Some(body[at..end].to_owned()).filter(|token| !token.is_empty())
}

/// `application/x-www-form-urlencoded`, written here rather than pulling a crate in.
fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
