//! THE table of what bounces and reports say in prose, by vendor and language: one row per
//! phrase. To recognise a new format, add a row. A phrase is matched as a substring of the
//! lower-cased subject ([`Place::Subject`]) or of the first 64 KB of the lower-cased text
//! ([`Place::Body`]); it recognises a mail only together with a machine signal
//! (`super::signals`). `name` is what the decision's reason shows (`vendor prose: <name>`).
//! Rows are tried in order at each position: put a vendor's own phrase before a generic one.

/// Where a phrase is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Subject,
    Body,
}

/// What a phrase says the mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A delivery failed or is delayed.
    Bounce,
    /// A complaint about mail (a feedback loop's abuse report).
    Report,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Phrase {
    pub name: &'static str,
    pub place: Place,
    pub kind: Kind,
    /// Lower case.
    pub text: &'static str,
}

const fn s(name: &'static str, text: &'static str) -> Phrase {
    Phrase {
        name,
        place: Place::Subject,
        kind: Kind::Bounce,
        text,
    }
}

const fn b(name: &'static str, text: &'static str) -> Phrase {
    Phrase {
        name,
        place: Place::Body,
        kind: Kind::Bounce,
        text,
    }
}

const fn rs(name: &'static str, text: &'static str) -> Phrase {
    Phrase {
        name,
        place: Place::Subject,
        kind: Kind::Report,
        text,
    }
}

const fn rb(name: &'static str, text: &'static str) -> Phrase {
    Phrase {
        name,
        place: Place::Body,
        kind: Kind::Report,
        text,
    }
}

pub const PHRASES: &[Phrase] = &[
    // Feedback loops without ARF.
    rs("Microsoft JMRP", "complaint about message from"),
    rb("Microsoft JMRP", "this is an email abuse report"),
    rs("AOL feedback loop", "client tos notification"),
    rb("feedback loop", "this is an abuse report"),
    // MTAs.
    b("Postfix", "this is the mail system at host"),
    b("Postfix", "this is the mail transport system at host"),
    b(
        "Postfix",
        "i'm sorry to have to inform you that your message could not",
    ),
    s("Postfix", "undelivered mail returned to sender"),
    s("Postfix", "delayed mail (still being retried)"),
    b(
        "sendmail",
        "the following addresses had permanent fatal errors",
    ),
    b("sendmail", "the original message was received at"),
    b("sendmail", "transcript of session follows"),
    s("sendmail", "returned mail:"),
    s("sendmail", "warning: could not send message for past"),
    b(
        "Exim",
        "this message was created automatically by mail delivery software",
    ),
    b(
        "Exim",
        "a message that you sent could not be delivered to one or more",
    ),
    s("Exim", "mail delivery failed"),
    s("Exim", "mail delivery failure"),
    b("qmail", "this is the qmail-send program at"),
    b(
        "qmail",
        "i wasn't able to deliver your message to the following addresses",
    ),
    s("qmail", "failure notice"),
    b(
        "Exchange 2003",
        "your message did not reach some or all of the intended recipients",
    ),
    b(
        "Exchange 2003",
        "the following recipient(s) could not be reached",
    ),
    b(
        "Exchange",
        "delivery has failed to these recipients or groups",
    ),
    b("Exchange", "diagnostic information for administrators"),
    b("Office 365", "couldn't be delivered"),
    b(
        "Gmail",
        "delivery to the following recipient failed permanently",
    ),
    b(
        "Gmail",
        "delivery to the following recipient has been delayed",
    ),
    b("Gmail", "your message wasn't delivered to"),
    b("Gmail", "message blocked"),
    s("Gmail", "delivery status notification (failure)"),
    s("Gmail", "delivery status notification (delay)"),
    b(
        "Yahoo",
        "sorry, we were unable to deliver your message to the following address",
    ),
    b("Yahoo", "this is the mail delivery agent at"),
    b("Lotus Domino", "not listed in domino directory"),
    b("Lotus Domino", "your message was not delivered to"),
    s("Lotus Domino", "delivery failure:"),
    s("Lotus Domino", "delivery failure report"),
    b(
        "GroupWise",
        "the message that you sent was undeliverable to the following",
    ),
    b("GroupWise", "possible causes of undeliverable mail"),
    s("GroupWise", "message status - undeliverable"),
    b("Apache James", "this is the james mail server at"),
    b("Apache James", "error message below:"),
    s("Apache James", "[bounce]"),
    b(
        "OpenSMTPD",
        "an error has occurred while attempting to deliver a message for the following list of recipients",
    ),
    b("OpenSMTPD", "this is the mailer-daemon at"),
    s("OpenSMTPD", "delivery status notification: error"),
    s("OpenSMTPD", "delivery status notification: delay"),
    b("Courier", "running the courier mail server"),
    b("Courier", "this is a delivery status notification from"),
    b(
        "MDaemon",
        "the attached message had permanent fatal delivery errors",
    ),
    b("MDaemon", "has been removed from the mail queue"),
    s("MDaemon", "permanent delivery failure"),
    s("MDaemon", "warning: message delivery delayed"),
    b("Verizon", "message could not be delivered to mobile"),
    b(
        "Verizon",
        "this message was not delivered to the intended recipient",
    ),
    s("Verizon", "undeliverable message"),
    // Japanese carriers (decoded from ISO-2022-JP when undeclared).
    s("au (KDDI)", "メールエラー通知"),
    b("au (KDDI)", "メールは送信されませんでした"),
    s("docomo", "メッセージ送信エラー"),
    b("docomo", "宛先のアドレスが存在しない"),
    s("SoftBank", "配信エラー"),
    b("SoftBank", "宛先不明のため送信できませんでした"),
    // Content filters.
    b("Trend Micro", "interscan messaging security"),
    b("Trend Micro", "trend micro email security"),
    b("McAfee", "mcafee email gateway"),
    b("McAfee", "blocked by mcafee"),
    b("Barracuda", "barracuda email security"),
    b("Barracuda", "barracuda spam firewall"),
    b("SurfControl", "surfcontrol e-mail filter"),
    b("SurfControl", "blocked by surfcontrol"),
    // Mailing-list managers.
    b(
        "Mailman",
        "you are not allowed to post to this mailing list",
    ),
    b("Mailman", "your message has been automatically rejected"),
    b("Mailman", "is a members-only list"),
    b("ezmlm", "this is the ezmlm program"),
    b("LISTSERV", "your message was not distributed"),
    b("LISTSERV", "you are not authorized to send mail to the"),
    s("LISTSERV", "rejected posting to"),
    // Generic, by language.
    s("generic (en)", "undeliverable"),
    s("generic (en)", "undelivered mail"),
    s("generic (en)", "delivery failure"),
    s("generic (en)", "delivery failed"),
    s("generic (en)", "message not delivered"),
    s("generic (en)", "nondeliverable"),
    s("generic (en)", "non-delivery"),
    s("generic (en)", "returned mail"),
    s("generic (en)", "delivery notification"),
    s("generic (en)", "delivery status notification"),
    s("generic (en)", "delivery delayed"),
    s("generic (en)", "delivery warning"),
    s("generic (en)", "message blocked"),
    b("generic (en)", "could not be delivered"),
    b("generic (en)", "was not delivered"),
    b("generic (en)", "delivery has failed"),
    b("generic (en)", "permanent error"),
    b("generic (en)", "delivery to the following recipient"),
    b("generic (en)", "unable to deliver"),
    b("generic (en)", "recipient address rejected"),
    b("generic (en)", "failed recipient"),
    s("generic (de)", "unzustellbar"),
    s("generic (de)", "nicht zustellbar"),
    s("generic (de)", "zustellung fehlgeschlagen"),
    s("generic (de)", "fehler bei der zustellung"),
    b("generic (de)", "konnte nicht zugestellt werden"),
    b(
        "generic (de)",
        "ihre nachricht hat einige oder alle empfänger nicht erreicht",
    ),
    b(
        "generic (de)",
        "zustellung an folgende empfänger fehlgeschlagen",
    ),
    s("generic (fr)", "non remis"),
    s("generic (fr)", "échec de la remise"),
    s("generic (fr)", "non distribuable"),
    b("generic (fr)", "n'a pas pu être remis"),
    b("generic (fr)", "impossible de remettre"),
    b("generic (fr)", "la remise a échoué"),
    s("generic (es)", "no se puede entregar"),
    s("generic (es)", "no entregado"),
    s("generic (es)", "error de entrega"),
    b("generic (es)", "no se pudo entregar"),
    b(
        "generic (es)",
        "la entrega a los siguientes destinatarios ha fallado",
    ),
    s("generic (it)", "non recapitabile"),
    s("generic (it)", "mancato recapito"),
    b("generic (it)", "impossibile recapitare"),
    b("generic (it)", "non è stato recapitato"),
    b("generic (it)", "consegna non riuscita"),
    s("generic (pt)", "não entregue"),
    s("generic (pt)", "falha na entrega"),
    b("generic (pt)", "não foi possível entregar"),
    b("generic (pt)", "mensagem devolvida"),
    s("generic (nl)", "onbestelbaar"),
    s("generic (nl)", "niet afgeleverd"),
    b("generic (nl)", "kan niet worden bezorgd"),
    b("generic (nl)", "kon niet worden bezorgd"),
    b("generic (nl)", "bezorging mislukt"),
    s("generic (ja)", "配信不能"),
    s("generic (ja)", "送信エラー"),
    b("generic (ja)", "届きませんでした"),
    b("generic (ja)", "配送に失敗しました"),
    b("generic (ja)", "送信できませんでした"),
    s("generic (zh)", "退信"),
    s("generic (zh)", "邮件退回"),
    s("generic (zh)", "投递失败"),
    s("generic (zh)", "無法傳遞"),
    b("generic (zh)", "无法投递"),
    b("generic (zh)", "未能送达"),
    b("generic (zh)", "邮件发送失败"),
    s("generic (ru)", "не доставлено"),
    s("generic (ru)", "недоставленное сообщение"),
    s("generic (ru)", "ошибка доставки"),
    b("generic (ru)", "не удалось доставить"),
    b("generic (ru)", "сообщение не доставлено"),
    b("generic (ru)", "письмо не доставлено"),
];
