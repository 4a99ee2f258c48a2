//! The hostile mails of the table in `hostile`, generated.

/// A mail from a customer with `headers` (each line ending in CRLF) and `body`.
pub fn mail(name: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jane <jane@acme.test>\r\nTo: support@example.test\r\n\
         Message-ID: <{name}@acme.test>\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n\
         {headers}\r\n{body}"
    )
    .into_bytes()
}

pub fn small() -> Vec<u8> {
    mail("small", "Subject: printer\r\n", "It jams.\r\n")
}

pub fn subject_of_brackets() -> Vec<u8> {
    let subject = "[".repeat(1 << 20) + "]";
    mail("brackets", &format!("Subject: {subject}\r\n"), "x\r\n")
}

pub fn subject_of_sup() -> Vec<u8> {
    let subject = "[SUP-".repeat(200_000) + "424242]";
    mail("sup", &format!("Subject: {subject}\r\n"), "x\r\n")
}

pub fn references() -> Vec<u8> {
    let ids: Vec<String> = (0..100_000).map(|i| format!("<r{i}@x.test>")).collect();
    let headers = format!(
        "Subject: Re: x\r\nIn-Reply-To: <r99999@x.test>\r\nReferences: {}\r\n",
        ids.join("\r\n ")
    );
    mail("refs", &headers, "x\r\n")
}

fn address_list(header: &str) -> String {
    let addresses: Vec<String> = (0..200_000).map(|i| format!("u{i}@x.test")).collect();
    format!(
        "Subject: many\r\n{header}: {}\r\n",
        addresses.join(",\r\n ")
    )
}

pub fn cc() -> Vec<u8> {
    mail("cc", &address_list("Cc"), "x\r\n")
}

pub fn to() -> Vec<u8> {
    mail("to", &address_list("To"), "x\r\n")
}

/// About 1 MB of header in 1,000 fields of 1,000 bytes.
pub fn one_megabyte_header() -> Vec<u8> {
    let pad: String = (0..1000)
        .map(|i| format!("X-Pad-{i:04}: {}\r\n", "p".repeat(988)))
        .collect();
    mail("mb-header", &format!("Subject: x\r\n{pad}"), "x\r\n")
}

pub fn one_megabyte_line() -> Vec<u8> {
    let line = format!("X-Huge: {}\r\n", "h".repeat(1 << 20));
    mail("mb-line", &format!("Subject: x\r\n{line}"), "x\r\n")
}

/// Six million empty header fields (`X:`), LF only so the mail stays under 25 MB.
pub fn empty_fields() -> Vec<u8> {
    mail(
        "empty",
        &format!("Subject: x\r\n{}", "X:\n".repeat(6_000_000)),
        "x\r\n",
    )
}

/// One field continued over six million blank lines.
pub fn continuation_lines() -> Vec<u8> {
    mail(
        "cont",
        &format!("X-Long: a\r\n{}", " \n".repeat(6_000_000)),
        "x\r\n",
    )
}

pub fn many_parts() -> Vec<u8> {
    parts(10_000)
}

/// 400,000 empty parts in 3.6 MB: each would cost mail-parser about a kilobyte.
pub fn empty_parts() -> Vec<u8> {
    let headers =
        "Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n";
    mail(
        "empty-parts",
        headers,
        &format!("{}--b--\r\n", "--b\r\n\r\n\r\n".repeat(400_000)),
    )
}

fn parts(count: usize) -> Vec<u8> {
    let parts: String = (0..count)
        .map(|i| format!("--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n"))
        .collect();
    let headers =
        "Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n";
    mail("parts", headers, &format!("{parts}--b--\r\n"))
}

fn nested(levels: usize) -> Vec<u8> {
    let mut body = String::new();
    for i in 0..levels - 1 {
        body.push_str(&format!(
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
            i + 1
        ));
    }
    body.push_str(&format!(
        "--b{}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n",
        levels - 1
    ));
    for i in (0..levels).rev() {
        body.push_str(&format!("--b{i}--\r\n"));
    }
    let headers =
        "Subject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n";
    mail(&format!("deep{levels}"), headers, &body)
}

pub fn nested_100() -> Vec<u8> {
    nested(100)
}

pub fn nested_5000() -> Vec<u8> {
    nested(5000)
}
