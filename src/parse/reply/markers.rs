//! Recognising the lines the reply trimmer acts on: quote attributions, Outlook history
//! (separators, "Original Message", header blocks), forward markers and mobile trailers.

use super::{is_blank, is_quoted};

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
pub(super) fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
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
pub(super) fn outlook_history_start(lines: &[&str], i: usize) -> Option<usize> {
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
pub(super) fn is_forward_marker(line: &str) -> bool {
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
pub(super) fn is_mobile_trailer(line: &str) -> bool {
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
