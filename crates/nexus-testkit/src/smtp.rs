//! An SMTP server on `127.0.0.1:0` for tests, speaking plain SMTP (RFC 5321) the way a real
//! submission server does: greeting, EHLO/HELO, AUTH PLAIN and LOGIN, MAIL/RCPT/DATA with
//! dot-unstuffing, RSET, NOOP, QUIT, replies in the right order and limits on what it takes.
//! It offers no STARTTLS, so a client that insists on TLS must refuse to use it.
//!
//! [`SmtpSink::start`] with `Some(password)` behaves like a submission server: it advertises
//! `AUTH PLAIN LOGIN`, accepts that password for any user name, and refuses mail before
//! authentication (530). With `None` it behaves like a relay without SASL: no AUTH offered, mail
//! accepted from anyone.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A command line, CRLF included (RFC 5321 §4.5.3.1.4).
pub const MAX_COMMAND_LINE: usize = 512;
/// A line of message text, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_TEXT_LINE: usize = 1000;
/// The largest message accepted, advertised as `SIZE`.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
pub const MAX_RECIPIENTS: usize = 100;
/// Bad commands tolerated on one connection before the sink hangs up, as real servers do.
const MAX_ERRORS: usize = 20;
/// An AUTH exchange line: RFC 4954 §4 allows 12288 octets.
const MAX_AUTH_LINE: usize = 12288;

/// One message as the sink received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without the angle brackets; empty for `<>`.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message as sent after DATA, dot-unstuffed, lines ending in CRLF.
    pub data: String,
    /// The user name the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
}

impl ReceivedMail {
    /// The first header called `name` (any case), unfolded and with RFC 2047 encoded words
    /// decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        headers(&self.data)
            .into_iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| decode_encoded_words(&value))
    }

    /// The text body, undoing the `Content-Transfer-Encoding` (7bit, 8bit, quoted-printable or
    /// base64), with CRLF line ends turned into `\n`. Panics on a multipart message, which this
    /// helper does not take apart.
    pub fn text_body(&self) -> String {
        if let Some(content_type) = self.header("Content-Type") {
            assert!(
                !content_type.to_ascii_lowercase().starts_with("multipart/"),
                "text_body does not take multipart messages apart: {content_type}"
            );
        }
        let (_, body) = split_message(&self.data);
        let encoding = self
            .header("Content-Transfer-Encoding")
            .map(|encoding| encoding.trim().to_ascii_lowercase());
        let bytes = match encoding.as_deref() {
            Some("base64") => {
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                STANDARD
                    .decode(compact)
                    .unwrap_or_else(|error| panic!("the base64 body does not decode: {error}"))
            }
            Some("quoted-printable") => decode_quoted_printable(body.as_bytes()),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8(bytes)
            .unwrap_or_else(|error| panic!("the body is not UTF-8: {error}"))
            .replace("\r\n", "\n")
    }
}

/// The SMTP server. Stops (with every connection it has) when dropped.
pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

struct Shared {
    expected_password: Option<String>,
    messages: Mutex<Vec<ReceivedMail>>,
    /// The number of messages received, for `wait_for`.
    received: watch::Sender<usize>,
    connections: AtomicUsize,
}

impl SmtpSink {
    /// Listens on `127.0.0.1:0`. The listener is bound before this returns, so clients may
    /// connect at once.
    pub async fn start(expected_password: Option<&str>) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("bind the SMTP sink: {error}"));
        let address = listener.local_addr().expect("the SMTP sink's address");
        let shared = Arc::new(Shared {
            expected_password: expected_password.map(str::to_owned),
            messages: Mutex::new(Vec::new()),
            received: watch::Sender::new(0),
            connections: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        SmtpSink {
            address,
            shared,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many TCP connections the sink has accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The messages received so far, in the order they were accepted.
    pub async fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().expect("sink messages").clone()
    }

    /// Waits until at least `count` messages have arrived and returns them all; panics when they
    /// have not within `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut received = self.shared.received.subscribe();
        let arrived = matches!(
            tokio::time::timeout(timeout, received.wait_for(|n| *n >= count)).await,
            Ok(Ok(_))
        );
        if !arrived {
            panic!(
                "only {} of {count} messages reached the SMTP sink within {timeout:?}",
                *received.borrow()
            );
        }
        self.messages().await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts every open session.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                // A failed accept (the client already gone) concerns that client only.
                if let Ok((stream, _)) = accepted {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    sessions.spawn(serve(stream, shared.clone()));
                }
            }
            // Reaps finished sessions so that a long test does not keep them all.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, write) = stream.into_split();
    let mut session = Session {
        reader: BufReader::new(read),
        writer: write,
        shared,
        greeted: false,
        authenticated_as: None,
        from: None,
        to: Vec::new(),
        errors: 0,
    };
    // An I/O error is the client going away; nothing to report to anyone.
    let _ = session.run().await;
}

enum Line {
    Text(String),
    TooLong,
    Eof,
}

/// Reads one line of at most `limit` bytes (line end included) without keeping more than that
/// in memory, whatever the client sends. The line end (CRLF, or a bare LF) is not returned.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    limit: usize,
) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::Eof);
        }
        let (used, complete) = match available.iter().position(|&byte| byte == b'\n') {
            Some(newline) => (newline + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if line.len() + used > limit {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&available[..used]);
            }
        }
        reader.consume(used);
        if complete {
            break;
        }
    }
    if too_long {
        return Ok(Line::TooLong);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Line::Text(String::from_utf8_lossy(&line).into_owned()))
}

struct Session<R, W> {
    reader: R,
    writer: W,
    shared: Arc<Shared>,
    greeted: bool,
    authenticated_as: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    errors: usize,
}

impl<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin> Session<R, W> {
    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        let code = text.get(..3).unwrap_or("");
        if code.starts_with('5') || code.starts_with('4') {
            self.errors += 1;
        }
        // One write per reply: two small ones would meet Nagle's algorithm and delayed ACKs,
        // and cost each exchange tens of milliseconds.
        self.writer
            .write_all(format!("{text}\r\n").as_bytes())
            .await?;
        self.writer.flush().await
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    async fn run(&mut self) -> std::io::Result<()> {
        self.reply("220 127.0.0.1 ESMTP nexus-testkit SMTP sink ready")
            .await?;
        loop {
            if self.errors >= MAX_ERRORS {
                return self
                    .reply("421 4.7.0 Too many errors, closing the connection")
                    .await;
            }
            let line = match read_line(&mut self.reader, MAX_COMMAND_LINE).await? {
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    self.reply("500 5.5.2 Line too long").await?;
                    continue;
                }
                Line::Text(line) => line,
            };
            let (verb, argument) = match line.split_once(' ') {
                Some((verb, argument)) => (verb, argument.trim()),
                None => (line.as_str(), ""),
            };
            match verb.to_ascii_uppercase().as_str() {
                "EHLO" => self.ehlo(argument).await?,
                "HELO" => self.helo(argument).await?,
                "AUTH" => self.auth(argument).await?,
                "MAIL" => self.mail(argument).await?,
                "RCPT" => self.rcpt(argument).await?,
                "DATA" => self.data(argument).await?,
                "RSET" if argument.is_empty() => {
                    self.reset();
                    self.reply("250 2.0.0 Ok").await?;
                }
                "NOOP" => self.reply("250 2.0.0 Ok").await?,
                "QUIT" => return self.reply("221 2.0.0 Bye").await,
                "RSET" => self.reply("501 5.5.4 Syntax: RSET").await?,
                _ => self.reply("500 5.5.2 Command not recognized").await?,
            }
        }
    }

    async fn ehlo(&mut self, domain: &str) -> std::io::Result<()> {
        if domain.is_empty() {
            return self.reply("501 5.5.4 Syntax: EHLO domain").await;
        }
        self.reset();
        self.greeted = true;
        let mut lines = vec![
            format!("nexus-testkit greets {domain}"),
            "8BITMIME".to_owned(),
            format!("SIZE {MAX_MESSAGE_BYTES}"),
            "ENHANCEDSTATUSCODES".to_owned(),
        ];
        if self.shared.expected_password.is_some() {
            lines.push("AUTH PLAIN LOGIN".to_owned());
        }
        let last = lines.len() - 1;
        let reply = lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let separator = if index == last { ' ' } else { '-' };
                format!("250{separator}{line}")
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        self.reply(&reply).await
    }

    async fn helo(&mut self, domain: &str) -> std::io::Result<()> {
        if domain.is_empty() {
            return self.reply("501 5.5.4 Syntax: HELO domain").await;
        }
        self.reset();
        self.greeted = true;
        self.reply("250 nexus-testkit").await
    }

    async fn auth(&mut self, argument: &str) -> std::io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 Send EHLO first").await;
        }
        let Some(expected) = self.shared.expected_password.clone() else {
            return self.reply("503 5.5.1 Authentication is not enabled").await;
        };
        if self.authenticated_as.is_some() {
            return self.reply("503 5.5.1 Already authenticated").await;
        }
        if self.from.is_some() {
            return self
                .reply("503 5.5.1 AUTH is not allowed during a mail transaction")
                .await;
        }
        let mut words = argument.split_whitespace();
        let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
        let initial = words.next().map(str::to_owned);
        let credentials = match mechanism.as_str() {
            "PLAIN" => {
                let Some(response) = self.auth_response(initial, "").await? else {
                    return Ok(());
                };
                let mut parts = response.split(|&byte| byte == 0);
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(_authorization), Some(user), Some(password), None) => {
                        Some((user.to_vec(), password.to_vec()))
                    }
                    _ => None,
                }
            }
            "LOGIN" => {
                let Some(user) = self.auth_response(initial, "VXNlcm5hbWU6").await? else {
                    return Ok(());
                };
                let Some(password) = self.auth_response(None, "UGFzc3dvcmQ6").await? else {
                    return Ok(());
                };
                Some((user, password))
            }
            "" => return self.reply("501 5.5.4 Syntax: AUTH mechanism").await,
            _ => {
                return self
                    .reply("504 5.5.4 Unrecognized authentication type")
                    .await;
            }
        };
        let Some((user, password)) = credentials else {
            return self
                .reply("501 5.5.2 Cannot decode the AUTH PLAIN response")
                .await;
        };
        if password == expected.as_bytes() {
            self.authenticated_as = Some(String::from_utf8_lossy(&user).into_owned());
            self.reply("235 2.7.0 Authentication successful").await
        } else {
            self.reply("535 5.7.8 Authentication credentials invalid")
                .await
        }
    }

    /// One client response in an AUTH exchange: the initial response if the command carried
    /// one, otherwise the answer to a `334 challenge`. `None` when the exchange is over (the
    /// client cancelled, sent bad base64, or went away), the reply already sent.
    async fn auth_response(
        &mut self,
        initial: Option<String>,
        challenge: &str,
    ) -> std::io::Result<Option<Vec<u8>>> {
        let encoded = match initial {
            Some(initial) => initial,
            None => {
                self.reply(&format!("334 {challenge}")).await?;
                match read_line(&mut self.reader, MAX_AUTH_LINE).await? {
                    Line::Text(line) => line,
                    Line::TooLong => {
                        self.reply("500 5.5.6 Authentication exchange line too long")
                            .await?;
                        return Ok(None);
                    }
                    Line::Eof => return Ok(None),
                }
            }
        };
        let encoded = encoded.trim();
        if encoded == "*" {
            self.reply("501 5.7.0 Authentication cancelled").await?;
            return Ok(None);
        }
        // RFC 4954 §4: "=" is an empty initial response.
        if encoded == "=" {
            return Ok(Some(Vec::new()));
        }
        match STANDARD.decode(encoded) {
            Ok(decoded) => Ok(Some(decoded)),
            Err(_) => {
                self.reply("501 5.5.2 Cannot decode the response").await?;
                Ok(None)
            }
        }
    }

    async fn mail(&mut self, argument: &str) -> std::io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 Send EHLO first").await;
        }
        if self.shared.expected_password.is_some() && self.authenticated_as.is_none() {
            return self.reply("530 5.7.0 Authentication required").await;
        }
        if self.from.is_some() {
            return self.reply("503 5.5.1 Nested MAIL command").await;
        }
        let Some((address, parameters)) = path(argument, "FROM:") else {
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>").await;
        };
        if !address.is_empty() && !is_address(&address) {
            return self.reply("501 5.1.7 Bad sender address syntax").await;
        }
        for parameter in parameters.split_whitespace() {
            let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => match value.parse::<usize>() {
                    Ok(size) if size > MAX_MESSAGE_BYTES => {
                        return self
                            .reply("552 5.3.4 Message size exceeds fixed limit")
                            .await;
                    }
                    Ok(_) => {}
                    Err(_) => return self.reply("501 5.5.4 Bad SIZE parameter").await,
                },
                "BODY" if ["7BIT", "8BITMIME"].contains(&value.to_ascii_uppercase().as_str()) => {}
                _ => {
                    return self
                        .reply("555 5.5.4 Unsupported MAIL FROM parameter")
                        .await;
                }
            }
        }
        self.from = Some(address);
        self.reply("250 2.1.0 Ok").await
    }

    async fn rcpt(&mut self, argument: &str) -> std::io::Result<()> {
        if self.from.is_none() {
            return self.reply("503 5.5.1 Need MAIL command first").await;
        }
        let Some((address, parameters)) = path(argument, "TO:") else {
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>").await;
        };
        if !is_address(&address) {
            return self.reply("501 5.1.3 Bad recipient address syntax").await;
        }
        if !parameters.is_empty() {
            return self.reply("555 5.5.4 Unsupported RCPT TO parameter").await;
        }
        if self.to.len() >= MAX_RECIPIENTS {
            return self.reply("452 4.5.3 Too many recipients").await;
        }
        self.to.push(address);
        self.reply("250 2.1.5 Ok").await
    }

    async fn data(&mut self, argument: &str) -> std::io::Result<()> {
        if !argument.is_empty() {
            return self.reply("501 5.5.4 Syntax: DATA").await;
        }
        if self.from.is_none() {
            return self.reply("503 5.5.1 Need MAIL command first").await;
        }
        if self.to.is_empty() {
            return self.reply("503 5.5.1 Need RCPT command first").await;
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let mut data = String::new();
        let mut too_big = false;
        let mut line_too_long = false;
        loop {
            let line = match read_line(&mut self.reader, MAX_TEXT_LINE).await? {
                // The client went away mid-message: nothing was delivered.
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    line_too_long = true;
                    continue;
                }
                Line::Text(line) => line,
            };
            if line == "." {
                break;
            }
            // RFC 5321 §4.5.2: the client doubled every leading dot.
            let line = line.strip_prefix('.').unwrap_or(&line);
            if data.len() + line.len() + 2 > MAX_MESSAGE_BYTES {
                too_big = true;
            }
            if !too_big {
                data.push_str(line);
                data.push_str("\r\n");
            }
        }
        let from = self.from.take().unwrap_or_default();
        let to = std::mem::take(&mut self.to);
        if too_big {
            return self.reply("552 5.3.4 Message too big").await;
        }
        if line_too_long {
            return self.reply("500 5.5.2 Message line too long").await;
        }
        let mail = ReceivedMail {
            from,
            to,
            data,
            authenticated_as: self.authenticated_as.clone(),
        };
        // Stored before the reply, so a client that has its 250 finds the message there.
        let queued = {
            let mut messages = self.shared.messages.lock().expect("sink messages");
            messages.push(mail);
            let count = messages.len();
            self.shared.received.send_replace(count);
            count
        };
        self.reply(&format!("250 2.0.0 Ok: queued as {queued}"))
            .await
    }
}

/// Parses `FROM:<address> PARAMETERS` (or `TO:`): the keyword in any case, an optional space
/// after the colon (some clients send one), the address without its brackets.
fn path(argument: &str, keyword: &str) -> Option<(String, String)> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let (address, parameters) = rest.split_once('>')?;
    if address.contains(['<', ' ']) {
        return None;
    }
    Some((address.to_owned(), parameters.trim().to_owned()))
}

fn is_address(address: &str) -> bool {
    match address.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty(),
        None => false,
    }
}

/// The header section and the body, split at the first empty line.
fn split_message(data: &str) -> (&str, &str) {
    if let Some(body) = data.strip_prefix("\r\n") {
        return ("", body);
    }
    match data.find("\r\n\r\n") {
        Some(end) => (&data[..end], &data[end + 4..]),
        None => (data, ""),
    }
}

/// The header section as (name, unfolded value) pairs.
fn headers(data: &str) -> Vec<(String, String)> {
    let (section, _) = split_message(data);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in section.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at a line end is a soft line break.
fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut output = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        if byte != b'=' {
            output.push(byte);
            index += 1;
            continue;
        }
        let next = &input[index + 1..];
        let escaped = match next {
            [high, low, ..] => hex_value(*high).zip(hex_value(*low)),
            _ => None,
        };
        if next.starts_with(b"\r\n") {
            index += 3;
        } else if next.starts_with(b"\n") {
            index += 2;
        } else if let Some((high, low)) = escaped {
            output.push(high * 16 + low);
            index += 3;
        } else {
            output.push(byte);
            index += 1;
        }
    }
    output
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the white space between
/// two adjacent encoded words is dropped, as the RFC says.
fn decode_encoded_words(value: &str) -> String {
    let mut output = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match encoded_word(candidate) {
            Some((decoded, length)) => {
                if !(after_word && before.trim().is_empty()) {
                    output.push_str(before);
                }
                output.push_str(&decoded);
                rest = &candidate[length..];
                after_word = true;
            }
            None => {
                output.push_str(before);
                output.push_str("=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    output.push_str(rest);
    output
}

/// One encoded word at the start of `text`: its decoded text and its length.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let (encoded, _) = inner.split_once("?=")?;
    if !["utf-8", "us-ascii"].contains(&charset.to_ascii_lowercase().as_str()) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(encoded).ok()?,
        "Q" | "q" => decode_quoted_printable(encoded.replace('_', " ").as_bytes()),
        _ => return None,
    };
    let length = 2 + charset.len() + 1 + encoding.len() + 1 + encoded.len() + 2;
    Some((String::from_utf8(bytes).ok()?, length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt as _;
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

    const WAIT: Duration = Duration::from_secs(5);

    /// A client typing SMTP by hand, to see each reply.
    struct Client {
        reader: BufReader<OwnedReadHalf>,
        writer: OwnedWriteHalf,
    }

    impl Client {
        async fn connect(sink: &SmtpSink) -> Client {
            let stream = TcpStream::connect(sink.address()).await.unwrap();
            let (read, writer) = stream.into_split();
            let mut client = Client {
                reader: BufReader::new(read),
                writer,
            };
            assert!(client.reply().await.starts_with("220 "));
            client
        }

        /// One reply, all its lines joined by `\n`.
        async fn reply(&mut self) -> String {
            let mut lines = Vec::new();
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).await.unwrap();
                assert!(
                    line.ends_with("\r\n"),
                    "a reply line ends in CRLF: {line:?}"
                );
                let line = line.trim_end().to_owned();
                let last = line.as_bytes().get(3) != Some(&b'-');
                lines.push(line);
                if last {
                    return lines.join("\n");
                }
            }
        }

        async fn send(&mut self, text: &str) -> String {
            let line = format!("{text}\r\n");
            self.writer.write_all(line.as_bytes()).await.unwrap();
            self.reply().await
        }

        async fn code(&mut self, text: &str) -> u16 {
            let reply = self.send(text).await;
            reply[..3].parse().unwrap()
        }
    }

    #[tokio::test]
    async fn a_full_session_delivers_one_message_with_several_recipients() {
        let sink = SmtpSink::start(None).await;
        let mut client = Client::connect(&sink).await;
        let ehlo = client.send("EHLO client.example").await;
        assert!(ehlo.contains("250-8BITMIME"), "{ehlo}");
        assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
        assert!(!ehlo.contains("AUTH"), "no AUTH without a password: {ehlo}");
        assert!(ehlo.lines().last().unwrap().starts_with("250 "), "{ehlo}");
        assert_eq!(client.code("MAIL FROM:<shop@nexus.example>").await, 250);
        assert_eq!(client.code("RCPT TO:<ama@example.gh>").await, 250);
        assert_eq!(client.code("rcpt to: <kofi@example.gh>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        let body = "Subject: Hello\r\n\r\nfirst\r\n..leading dot\r\n.\r\n";
        client.writer.write_all(body.as_bytes()).await.unwrap();
        assert!(client.reply().await.starts_with("250 "));
        assert_eq!(client.code("QUIT").await, 221);

        let messages = sink.wait_for(1, WAIT).await;
        assert_eq!(messages.len(), 1);
        let mail = &messages[0];
        assert_eq!(mail.from, "shop@nexus.example");
        assert_eq!(mail.to, ["ama@example.gh", "kofi@example.gh"]);
        assert_eq!(mail.data, "Subject: Hello\r\n\r\nfirst\r\n.leading dot\r\n");
        assert_eq!(mail.authenticated_as, None);
        assert_eq!(mail.header("subject").as_deref(), Some("Hello"));
        assert_eq!(mail.text_body(), "first\n.leading dot\n");
        assert_eq!(sink.connections(), 1);
    }

    #[tokio::test]
    async fn commands_out_of_order_or_unknown_are_refused() {
        let sink = SmtpSink::start(None).await;
        let mut client = Client::connect(&sink).await;
        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 503);
        assert_eq!(client.code("WHAT").await, 500);
        assert_eq!(client.code("").await, 500);
        assert_eq!(client.code("EHLO").await, 501);
        assert_eq!(client.code("HELO client.example").await, 250);
        assert_eq!(client.code("RCPT TO:<a@b.example>").await, 503);
        assert_eq!(client.code("DATA").await, 503);
        assert_eq!(client.code("MAIL FROM:a@b.example").await, 501);
        assert_eq!(client.code("MAIL FROM:<not-an-address>").await, 501);
        assert_eq!(client.code("MAIL FROM:<>").await, 250);
        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 503);
        assert_eq!(client.code("DATA").await, 503);
        assert_eq!(client.code("RCPT TO:<>").await, 501);
        assert_eq!(client.code("NOOP").await, 250);
        assert_eq!(client.code("RSET").await, 250);
        assert_eq!(client.code("RCPT TO:<a@b.example>").await, 503);
        assert_eq!(client.code("AUTH PLAIN AGFtYQBwdw==").await, 503);
        assert_eq!(client.code("STARTTLS").await, 500);
        assert_eq!(client.code("QUIT").await, 221);
        assert!(sink.messages().await.is_empty());
    }

    #[tokio::test]
    async fn auth_plain_and_login_take_the_password_and_nothing_else() {
        let sink = SmtpSink::start(Some("s3cret")).await;

        let mut client = Client::connect(&sink).await;
        let ehlo = client.send("EHLO client.example").await;
        assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 530);
        let wrong = STANDARD.encode("\0ama\0guess");
        assert_eq!(client.code(&format!("AUTH PLAIN {wrong}")).await, 535);
        assert_eq!(client.code("AUTH CRAM-MD5").await, 504);
        assert_eq!(client.code("AUTH PLAIN !!!").await, 501);
        // Without an initial response the server asks for it.
        assert!(client.send("AUTH PLAIN").await.starts_with("334"));
        let right = STANDARD.encode("\0ama\0s3cret");
        assert_eq!(client.code(&right).await, 235);
        assert_eq!(client.code(&format!("AUTH PLAIN {right}")).await, 503);
        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 250);
        assert_eq!(client.code("RCPT TO:<c@d.example>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        assert_eq!(client.code("\r\nplain\r\n.").await, 250);

        let mut client = Client::connect(&sink).await;
        client.send("EHLO client.example").await;
        assert_eq!(
            client.send("AUTH LOGIN").await,
            "334 VXNlcm5hbWU6",
            "asks for the user name"
        );
        assert_eq!(
            client.send(&STANDARD.encode("kofi")).await,
            "334 UGFzc3dvcmQ6"
        );
        assert_eq!(client.code(&STANDARD.encode("wrong")).await, 535);
        client.send("AUTH LOGIN").await;
        client.send(&STANDARD.encode("kofi")).await;
        assert_eq!(client.code("*").await, 501, "the client may cancel");
        let user = STANDARD.encode("kofi");
        assert!(
            client
                .send(&format!("AUTH LOGIN {user}"))
                .await
                .starts_with("334")
        );
        assert_eq!(client.code(&STANDARD.encode("s3cret")).await, 235);
        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 250);
        assert_eq!(client.code("RCPT TO:<c@d.example>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        assert_eq!(client.code("\r\nlogin\r\n.").await, 250);

        let messages = sink.wait_for(2, WAIT).await;
        assert_eq!(messages[0].authenticated_as.as_deref(), Some("ama"));
        assert_eq!(messages[1].authenticated_as.as_deref(), Some("kofi"));
    }

    #[tokio::test]
    async fn long_lines_and_big_messages_are_refused_and_the_session_goes_on() {
        let sink = SmtpSink::start(None).await;
        let mut client = Client::connect(&sink).await;
        let long_command = format!("EHLO {}", "x".repeat(MAX_COMMAND_LINE));
        assert_eq!(client.code(&long_command).await, 500);
        assert_eq!(client.code("EHLO client.example").await, 250);

        assert_eq!(
            client.code("MAIL FROM:<a@b.example> SIZE=99999999").await,
            552
        );
        assert_eq!(client.code("MAIL FROM:<a@b.example> SIZE=10").await, 250);
        assert_eq!(client.code("RCPT TO:<c@d.example>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        let long_line = "y".repeat(MAX_TEXT_LINE);
        assert_eq!(client.code(&format!("\r\n{long_line}\r\n.")).await, 500);

        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 250);
        assert_eq!(client.code("RCPT TO:<c@d.example>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        let line = "z".repeat(900);
        let lines = vec![line; MAX_MESSAGE_BYTES / 900 + 1].join("\r\n");
        assert_eq!(client.code(&format!("\r\n{lines}\r\n.")).await, 552);

        assert_eq!(client.code("MAIL FROM:<a@b.example>").await, 250);
        assert_eq!(client.code("RCPT TO:<c@d.example>").await, 250);
        assert_eq!(client.code("DATA").await, 354);
        assert_eq!(client.code("\r\nsmall\r\n.").await, 250);
        let messages = sink.wait_for(1, WAIT).await;
        assert_eq!(messages.len(), 1, "only the small message was kept");
        assert_eq!(messages[0].text_body(), "small\n");
    }

    #[tokio::test]
    async fn too_many_errors_close_the_connection() {
        let sink = SmtpSink::start(None).await;
        let mut client = Client::connect(&sink).await;
        for _ in 0..MAX_ERRORS - 1 {
            assert_eq!(client.code("BOGUS").await, 500);
        }
        assert_eq!(client.code("BOGUS").await, 500);
        // The server spoke its 421 unprompted and hung up.
        assert!(client.reply().await.starts_with("421 "));
        let mut rest = Vec::new();
        client.reader.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn wait_for_panics_when_the_messages_do_not_come() {
        let sink = SmtpSink::start(None).await;
        let waited = tokio::spawn(async move {
            sink.wait_for(1, Duration::from_millis(50)).await;
        })
        .await;
        let panic = waited.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("only 0 of 1 messages"), "{message}");
    }

    fn mail(data: &str) -> ReceivedMail {
        ReceivedMail {
            from: String::new(),
            to: Vec::new(),
            data: data.to_owned(),
            authenticated_as: None,
        }
    }

    #[test]
    fn bodies_are_decoded_from_quoted_printable_and_base64() {
        let link = "https://shop.example/reset?token=abc=def";
        let quoted = mail(
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n\
             Pay =E2=82=B510 at https://shop.example/reset?token=3Dabc=3D=\r\ndef\r\n",
        );
        assert_eq!(quoted.text_body(), format!("Pay ₵10 at {link}\n"));
        let encoded = STANDARD.encode(format!("Pay ₵10 at {link}\r\n"));
        let (first, second) = encoded.split_at(20);
        let base64 = mail(&format!(
            "Content-Transfer-Encoding: BASE64\r\n\r\n{first}\r\n{second}\r\n"
        ));
        assert_eq!(base64.text_body(), format!("Pay ₵10 at {link}\n"));
        let plain = mail("Content-Transfer-Encoding: 7bit\r\n\r\nhello=3D\r\n");
        assert_eq!(plain.text_body(), "hello=3D\n");
    }

    #[test]
    fn headers_are_unfolded_and_encoded_words_decoded() {
        let data = "Subject: =?utf-8?b?UmVzZXQg4oCU?=\r\n =?utf-8?q?Ama_Provisions?=\r\n\
                    To: plain\r\n\tfolded\r\n\r\nbody\r\n";
        let mail = mail(data);
        assert_eq!(
            mail.header("SUBJECT").as_deref(),
            Some("Reset —Ama Provisions")
        );
        assert_eq!(mail.header("to").as_deref(), Some("plain\tfolded"));
        assert_eq!(mail.header("From"), None);
        assert_eq!(decode_encoded_words("a =?x?q?y?= b"), "a =?x?q?y?= b");
    }
}
