//! The names mail clients give the header lines of a quoted or forwarded mail (`From:`,
//! `Sent:`, `Subject:` …) in the languages they write them, lower case. One list for the reply
//! trimmer (`parse::reply::outlook`) and the escalation gate's forward reader
//! (`escalation::forwarded`).

pub const FROM: &[&str] = &[
    "from",
    "von",
    "de",
    "van",
    "da",
    "från",
    "fra",
    "od",
    "от",
    "lähettäjä",
    "feladó",
    "发件人",
    "寄件者",
    "差出人",
];

/// Outlook's `Sent:`, everybody else's `Date:`.
pub const SENT: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "enviado",
    "enviada em",
    "fecha",
    "inviato",
    "data",
    "verzonden",
    "skickat",
    "sendt",
    "wysłano",
    "отправлено",
    "дата",
    "lähetetty",
    "elküldve",
    "发送时间",
    "日期",
    "送信日時",
    "日付",
];

pub const TO: &[&str] = &[
    "to",
    "an",
    "à",
    "a",
    "pour",
    "para",
    "aan",
    "till",
    "til",
    "do",
    "кому",
    "vastaanottaja",
    "címzett",
    "收件人",
    "宛先",
];

pub const CC: &[&str] = &["cc", "kopie", "копия"];

pub const BCC: &[&str] = &["bcc", "cci", "bkopie"];

pub const SUBJECT: &[&str] = &[
    "subject",
    "betreff",
    "objet",
    "sujet",
    "asunto",
    "oggetto",
    "onderwerp",
    "assunto",
    "ämne",
    "emne",
    "temat",
    "тема",
    "aihe",
    "tárgy",
    "主题",
    "主旨",
    "件名",
];

pub const REPLY_TO: &[&str] = &["reply-to", "antwort an", "répondre à"];
