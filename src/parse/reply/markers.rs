//! Markers that do not cut a reply: forward markers (the forwarded mail is kept) and mobile
//! trailers ("Sent from my iPhone", dropped from the end).

use super::casefold::with_lowercase;
use super::trim;

/// Whether `t` (trimmed) passes the cheap checks of [`is_forward_marker`].
pub(super) fn may_be_forward_marker(t: &str) -> bool {
    t.len() <= 100 && (t.starts_with(['-', '*']) || t.ends_with(':'))
}

/// "---------- Forwarded message ---------", "Begin forwarded message:" and translations.
pub(super) fn is_forward_marker(line: &str) -> bool {
    let t = trim(line);
    if !may_be_forward_marker(t) {
        return false;
    }
    with_lowercase(t, |lower| {
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
    })
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
    with_lowercase(t, |lower| {
        STRONG.iter().any(|p| lower.starts_with(p))
            || lower.ends_with("から送信")
            || (SENT.iter().any(|p| lower.starts_with(p))
                && DEVICES.iter().any(|d| lower.contains(d)))
    })
}
