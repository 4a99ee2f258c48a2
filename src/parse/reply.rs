//! The new part of a reply: quoted history, attribution lines, signature and "Sent from my
//! phone" trailers removed.
//!
//! One pass over the lines decides, in order:
//!
//! 1. `>`-quoted lines are dropped wherever they are (so inline, interleaved answers keep only
//!    their own lines), and so is an attribution ("On ... wrote:", "Le ... a écrit :",
//!    "Am ... schrieb ...:", ...; up to four wrapped lines) that introduces a quoted block.
//! 2. Quoted history that is *not* `>`-prefixed ends the reply: an attribution followed by
//!    unprefixed text, Outlook's "-----Original Message-----", an underscore separator
//!    followed by a header block, or a header block itself ("From: ... Sent: ... To: ...",
//!    in several languages, also `**From:**` as html2text renders Outlook HTML).
//! 3. A forward marker ("---------- Forwarded message ---------", "Begin forwarded
//!    message:", ...) is **not** a cut: for a support desk the forwarded mail is usually the
//!    substance of the request ("see the customer's mail below"), so it is kept verbatim.
//!    When the subject says the mail is a forward (`Fwd:`, `FW:`, ...), the Outlook separators
//!    and header blocks that Outlook uses for forwards and replies alike count as forward
//!    markers too. Only text before a forward marker is trimmed.
//! 4. Of what is left, everything after the first signature delimiter (`-- `, or `--`) goes,
//!    then trailing "Sent from my iPhone"-style lines.
//!
//! Link footnotes at the end (`[1]: https://...`, as html2text writes them) are kept only
//! when the remaining text still refers to them. When nothing is left, the whole text is
//! returned trimmed.
//!
//! Known limits: a signature without a delimiter stays; so does unprefixed history that is
//! introduced by nothing recognisable; "-----Original Message-----" in a mail forwarded
//! from Outlook without a forward subject is cut like a reply.

#[cfg(test)]
mod tests;

/// Only what is new in a reply (see the module documentation).
pub fn extract_reply(body_text: &str) -> String {
    extract_reply_for(body_text, false)
}

/// [`extract_reply`], told whether the subject marks the mail as a forward.
pub(super) fn extract_reply_for(body_text: &str, forwarded: bool) -> String {
    let lines: Vec<&str> = body_text.lines().collect();
    let (content, footnotes) = split_footnotes(&lines);
    let scan = scan(content, forwarded);

    let mut out: Vec<&str> = Vec::with_capacity(scan.head_end);
    let mut after_removed = false;
    for (&line, &drop) in content[..scan.head_end].iter().zip(&scan.dropped) {
        if drop {
            after_removed = true;
            continue;
        }
        if after_removed {
            if is_blank(line) {
                continue;
            }
            trim_blank_end(&mut out);
            if !out.is_empty() {
                out.push("");
            }
            after_removed = false;
        }
        out.push(line);
    }
    if let Some(sig) = out.iter().position(|l| is_signature_delimiter(l)) {
        out.truncate(sig);
    }
    loop {
        trim_blank_end(&mut out);
        match out.last() {
            Some(line) if is_mobile_trailer(line) => {
                out.pop();
            }
            _ => break,
        }
    }
    if let Some(forward) = scan.forward_start {
        if !out.is_empty() {
            out.push("");
        }
        out.extend_from_slice(&content[forward..]);
        trim_blank_end(&mut out);
    }

    let mut text = out.join("\n");
    let referenced: Vec<&str> = footnotes
        .iter()
        .copied()
        .filter(|f| footnote_marker(f).is_some_and(|m| text.contains(m)))
        .collect();
    if !referenced.is_empty() {
        text.push_str("\n\n");
        text.push_str(&referenced.join("\n"));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        body_text.trim().to_string()
    } else if trimmed.len() == text.len() {
        text
    } else {
        trimmed.to_string()
    }
}

/// What the scan decided about the lines of a mail.
struct Scan {
    /// Lines before this index are the candidate reply; the rest is cut (or forwarded).
    head_end: usize,
    /// Per line of the head: dropped as quote or quote attribution.
    dropped: Vec<bool>,
    /// Where kept forwarded content starts (equals `head_end` when set).
    forward_start: Option<usize>,
}

fn scan(lines: &[&str], forwarded: bool) -> Scan {
    let mut dropped = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_quoted(line) {
            dropped[i] = true;
            i += 1;
            continue;
        }
        if is_blank(line) {
            i += 1;
            continue;
        }
        if is_forward_marker(line) {
            return forward_at(i, dropped);
        }
        if let Some(span) = attribution_len(lines, i) {
            let next = lines[i + span..].iter().find(|l| !is_blank(l));
            if next.is_some_and(|l| is_quoted(l)) {
                dropped[i..i + span].fill(true);
                i += span;
                continue;
            }
            return cut_at(i, dropped);
        }
        if let Some(start) = outlook_history_start(lines, i) {
            return if forwarded {
                forward_at(start, dropped)
            } else {
                cut_at(start, dropped)
            };
        }
        i += 1;
    }
    Scan {
        head_end: lines.len(),
        dropped,
        forward_start: None,
    }
}

fn cut_at(at: usize, mut dropped: Vec<bool>) -> Scan {
    dropped.truncate(at);
    Scan {
        head_end: at,
        dropped,
        forward_start: None,
    }
}

fn forward_at(at: usize, dropped: Vec<bool>) -> Scan {
    Scan {
        forward_start: Some(at),
        ..cut_at(at, dropped)
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn trim_blank_end(out: &mut Vec<&str>) {
    while out.last().is_some_and(|l| is_blank(l)) {
        out.pop();
    }
}

fn is_signature_delimiter(line: &str) -> bool {
    line == "-- " || line.trim_end() == "--"
}

/// Case-insensitive `starts_with` for an ASCII or non-ASCII prefix, without allocating for
/// the common ASCII case.
fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix) || head.to_lowercase() == prefix)
}

/// Whether `needle` occurs in `hay` as a word (an ASCII word needs non-alphanumeric
/// neighbours; CJK verbs are matched anywhere).
fn contains_word(hay: &str, needle: &str) -> bool {
    let ascii_start = needle.as_bytes().first().is_some_and(u8::is_ascii);
    hay.match_indices(needle).any(|(at, _)| {
        !ascii_start
            || (hay[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && hay[at + needle.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Lines that start a quote attribution in various languages.
const ATTRIBUTION_PREFIXES: &[&str] = &[
    "on ",
    "le ",
    "am ",
    "el ",
    "il ",
    "op ",
    "em ",
    "den ",
    "på ",
    "w dniu ",
    "dne ",
    "pada ",
    "в ",
    "στις ",
    "在 ",
    "el día ",
];

/// "wrote" in various languages, lower case.
const WROTE: &[&str] = &[
    "wrote",
    "writes",
    "a écrit",
    "schrieb",
    "escribió",
    "ha escrito",
    "ha scritto",
    "scrisse",
    "schreef",
    "escreveu",
    "skrev",
    "kirjoitti",
    "napisał",
    "napisała",
    "napisał(a)",
    "написал",
    "написала",
    "написал(а)",
    "έγραψε",
    "a scris",
    "írta",
    "写道",
    "寫道",
];

/// If an attribution line ("On ... wrote:") starts at `i`, how many lines it spans (1–4).
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    if first.len() > 400 {
        return None;
    }
    let has_prefix = ATTRIBUTION_PREFIXES
        .iter()
        .any(|p| starts_with_ci(first, p));
    if !has_prefix && !first.ends_with([':', '：']) {
        return None;
    }
    let max_span = if has_prefix { 4 } else { 1 };
    let mut joined = String::new();
    for (span, line) in lines[i..].iter().take(max_span).enumerate() {
        let line = line.trim();
        if line.is_empty() || is_quoted(line) || joined.len() + line.len() > 500 {
            return None;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(&line.to_lowercase());
        let Some(core) = joined
            .strip_suffix(':')
            .or_else(|| joined.strip_suffix('：'))
            .map(str::trim_end)
        else {
            continue;
        };
        let verb_anywhere = || WROTE.iter().any(|w| contains_word(core, w));
        let verb_at_end = || {
            WROTE
                .iter()
                .any(|w| core.ends_with(w) && contains_word(core, w))
        };
        // Gmail in some locales: "2025-03-03 10:00 GMT+01:00 Name <name@example.com>:"
        let dated_address = span == 0
            && first.starts_with(|c: char| c.is_ascii_digit())
            && core.ends_with('>')
            && core.contains('@');
        if (has_prefix && verb_anywhere()) || verb_at_end() || dated_address {
            return Some(span + 1);
        }
    }
    None
}

/// Header labels of a quoted header block, in the languages Outlook writes them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    From,
    Sent,
    To,
    Cc,
    Subject,
    ReplyTo,
}

fn label(line: &str) -> Option<Label> {
    let t = line.trim().trim_start_matches('*').trim_start();
    let colon = t.find([':', '：'])?;
    let name = t[..colon].trim().trim_end_matches('*').trim();
    if name.is_empty() || name.len() > 24 {
        return None;
    }
    let name = name.to_lowercase();
    let label = match name.as_str() {
        "from" | "von" | "de" | "van" | "da" | "från" | "fra" | "od" | "от" | "lähettäjä"
        | "feladó" | "发件人" | "寄件者" | "差出人" => Label::From,
        "sent"
        | "date"
        | "gesendet"
        | "datum"
        | "envoyé"
        | "enviado"
        | "enviada em"
        | "fecha"
        | "inviato"
        | "data"
        | "verzonden"
        | "skickat"
        | "sendt"
        | "wysłano"
        | "отправлено"
        | "дата"
        | "lähetetty"
        | "elküldve"
        | "发送时间"
        | "日期"
        | "送信日時"
        | "日付" => Label::Sent,
        "to" | "an" | "à" | "a" | "para" | "aan" | "till" | "til" | "do" | "кому"
        | "vastaanottaja" | "címzett" | "收件人" | "宛先" => Label::To,
        "cc" | "kopie" | "копия" => Label::Cc,
        "subject" | "betreff" | "objet" | "asunto" | "oggetto" | "onderwerp" | "assunto"
        | "ämne" | "emne" | "temat" | "тема" | "aihe" | "tárgy" | "主题" | "主旨" | "件名" => {
            Label::Subject
        }
        "reply-to" | "antwort an" | "répondre à" => Label::ReplyTo,
        _ => return None,
    };
    Some(label)
}

/// Whether a quoted header block ("From: / Sent: / To: / Subject:") starts at `i`: a From
/// label followed, before the next blank line, by at least two other labels of which one is
/// Sent/Date or Subject.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    if label(lines[i]) != Some(Label::From) {
        return false;
    }
    let mut seen: Vec<Label> = Vec::new();
    for line in lines[i + 1..].iter().take(8).take_while(|l| !is_blank(l)) {
        if let Some(l) = label(line).filter(|l| *l != Label::From && !seen.contains(l)) {
            seen.push(l);
        }
    }
    seen.len() >= 2
        && seen
            .iter()
            .any(|l| matches!(l, Label::Sent | Label::Subject))
}

/// A line that only separates: underscores, dashes, box-drawing rules (html2text's `<hr>`).
fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() >= 5 && t.chars().all(|c| matches!(c, '_' | '-' | '─' | '━' | '='))
}

/// `-----Original Message-----` and its translations.
fn is_original_message(line: &str) -> bool {
    let t = line.trim();
    if !t.starts_with("--") || t.len() > 80 {
        return false;
    }
    let core = t
        .trim_matches(|c: char| c == '-' || c.is_whitespace())
        .to_lowercase();
    [
        "original message",
        "original-nachricht",
        "ursprüngliche nachricht",
        "message d'origine",
        "message d’origine",
        "mensaje original",
        "messaggio originale",
        "oorspronkelijk bericht",
        "originalmeddelande",
        "opprinnelig melding",
        "oprindelig meddelelse",
        "alkuperäinen viesti",
        "wiadomość oryginalna",
        "исходное сообщение",
        "mensagem original",
        "reply message",
    ]
    .contains(&core.as_str())
}

/// If unprefixed Outlook-style history starts at `i`, the line where it starts (moved up over
/// separator lines just above it).
fn outlook_history_start(lines: &[&str], i: usize) -> Option<usize> {
    let line = lines[i];
    let starts = is_original_message(line)
        || is_header_block(lines, i)
        || (line.trim().len() >= 30 && line.trim().bytes().all(|b| b == b'_'));
    if !starts {
        return None;
    }
    let mut start = i;
    let mut k = i;
    while k > 0 {
        k -= 1;
        if is_blank(lines[k]) {
            continue;
        }
        if is_separator(lines[k]) {
            start = k;
            continue;
        }
        break;
    }
    Some(start)
}

/// "---------- Forwarded message ---------", "Begin forwarded message:" and translations.
fn is_forward_marker(line: &str) -> bool {
    let t = line.trim();
    if t.len() > 100 || !(t.starts_with('-') || t.starts_with('*') || t.ends_with(':')) {
        return false;
    }
    let lower = t.to_lowercase();
    [
        "forwarded message",
        "begin forwarded message",
        "weitergeleitete nachricht",
        "message transféré",
        "mensaje reenviado",
        "messaggio inoltrato",
        "doorgestuurd bericht",
        "videresendt melding",
        "vidarebefordrat meddelande",
        "välitetty viesti",
        "wiadomość przekazana",
        "пересылаемое сообщение",
        "mensagem encaminhada",
        "forwarded by",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// "Sent from my iPhone" and its many relatives.
fn is_mobile_trailer(line: &str) -> bool {
    let t = line
        .trim()
        .trim_start_matches(['(', '<', '*', '_'])
        .trim_start();
    if t.is_empty() || t.len() > 120 {
        return false;
    }
    let lower = t.to_lowercase();
    const STRONG: &[&str] = &[
        "sent from my ",
        "get outlook for ",
        "get [outlook for ",
        "envoyé de mon ",
        "envoyé depuis mon ",
        "von meinem ",
        "gesendet von meinem ",
        "gesendet mit ",
        "diese nachricht wurde von meinem ",
        "enviado desde mi ",
        "enviado do meu ",
        "enviado de meu ",
        "inviato da ",
        "verzonden met ",
        "verzonden vanaf ",
        "verstuurd vanaf ",
        "skickat från ",
        "sendt fra ",
        "wysłane z ",
        "отправлено с ",
        "從我的",
        "从我的",
    ];
    const SENT: &[&str] = &[
        "sent from ",
        "sent via ",
        "sent with ",
        "sent using ",
        "sent by ",
    ];
    const DEVICES: &[&str] = &[
        "iphone",
        "ipad",
        "ipod",
        "android",
        "mobile",
        "phone",
        "galaxy",
        "samsung",
        "blackberry",
        "outlook",
        "mail",
        "tablet",
        "device",
        "huawei",
        "pixel",
        "htc",
        "nokia",
        "spark",
        "proton",
        "windows",
        "cell",
    ];
    STRONG.iter().any(|p| lower.starts_with(p))
        || lower.ends_with("から送信")
        || (SENT.iter().any(|p| lower.starts_with(p)) && DEVICES.iter().any(|d| lower.contains(d)))
}

/// `[12]: https://...` → `Some("[12]")`.
fn footnote_marker(line: &str) -> Option<&str> {
    let t = line.trim();
    let close = t.find("]:")?;
    let digits = t.get(1..close)?;
    (t.starts_with('[') && !digits.is_empty() && digits.len() <= 5)
        .then_some(())
        .filter(|()| digits.bytes().all(|b| b.is_ascii_digit()))
        .map(|()| &t[..=close])
}

/// Splits the trailing block of link footnotes (and blank lines) off the text.
fn split_footnotes<'a, 'b>(lines: &'b [&'a str]) -> (&'b [&'a str], Vec<&'a str>) {
    let mut start = lines.len();
    let mut found = false;
    while start > 0 {
        let line = lines[start - 1];
        if footnote_marker(line).is_some() {
            found = true;
        } else if !is_blank(line) {
            break;
        }
        start -= 1;
    }
    if !found {
        return (lines, Vec::new());
    }
    let footnotes = lines[start..]
        .iter()
        .copied()
        .filter(|l| !is_blank(l))
        .collect();
    (&lines[..start], footnotes)
}
