//! The vocabulary of the synthetic archive: a tiny deterministic PRNG, customers and their
//! domains, support-desk subjects and sentences, and RFC 2047 encoded words (their base64 from
//! the `base64` crate). No I/O.

use base64::prelude::{BASE64_STANDARD, Engine as _};

/// xorshift64* seeded through splitmix64 (so seed 0 works). Deterministic on every platform.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

const FIRST: [&str; 20] = [
    "Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kenji",
    "Laura", "Malik", "Nora", "Oscar", "Paula", "Quentin", "Rosa", "Sven", "Yuki",
];
const LAST: [&str; 20] = [
    "Schmidt", "Martin", "Tanaka", "Rossi", "Novak", "Berg", "Dubois", "Fischer", "Garcia",
    "Hansen", "Ito", "Jensen", "Kowalski", "Lambert", "Meyer", "Nielsen", "Okafor", "Petit",
    "Suzuki", "Weber",
];
const ORG: [&str; 12] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "wonka",
];
const ORG_KIND: [&str; 8] = [
    "",
    "-labs",
    "-gmbh",
    "-group",
    "-systems",
    "-consulting",
    "-retail",
    "-logistics",
];
const TLD: [&str; 7] = ["com", "de", "fr", "co.jp", "io", "net", "org"];
const ZONES: [i32; 8] = [0, 3600, 7200, -18000, -28800, 32400, 19800, 3600];

/// A customer: display name, address, and UTC offset of their mail client.
pub(crate) struct Customer {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) domain: String,
    pub(crate) utc_offset: i32,
}

/// Domain `d` of the archive; distinct for the first 96 indexes.
pub(crate) fn domain(d: usize) -> String {
    let org = ORG[d % ORG.len()];
    let kind = ORG_KIND[(d / ORG.len()) % ORG_KIND.len()];
    let tld = TLD[(d / 3) % TLD.len()];
    match d / (ORG.len() * ORG_KIND.len()) {
        0 => format!("{org}{kind}.{tld}"),
        n => format!("{org}{kind}{n}.{tld}"),
    }
}

/// Customer `i` (distinct for every index) on one of `domains` domains.
pub(crate) fn customer(i: usize, domains: usize) -> Customer {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let round = i / (FIRST.len() * LAST.len());
    let domain = domain((i * 7) % domains.max(1));
    let local = match round {
        0 => format!("{}.{}", first.to_lowercase(), last.to_lowercase()),
        n => format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase()),
    };
    Customer {
        name: format!("{first} {last}"),
        address: format!("{local}@{domain}"),
        domain,
        utc_offset: ZONES[i % ZONES.len()],
    }
}

pub(crate) const SUBJECTS: [&str; 24] = [
    "Cannot log in after password reset",
    "Invoice #{n} shows the wrong VAT rate",
    "Export to CSV fails with error 500",
    "Question about our subscription renewal",
    "Order {n} has not arrived yet",
    "Two-factor codes are not accepted",
    "Request: add a second admin to account {n}",
    "API rate limit reached far too early",
    "Refund for duplicate charge",
    "Dashboard is extremely slow since the update",
    "How do I change the billing address?",
    "Webhook deliveries failing for project {n}",
    "Data import stuck at 99%",
    "Please cancel my account",
    "SSO login loops back to the start page",
    "Wrong currency on quote {n}",
    "Emails from your system land in spam",
    "Mobile app crashes on startup",
    "Need a copy of the signed contract",
    "Users cannot upload files larger than 10 MB",
    "Urgent: production outage",
    "Feature request: dark mode",
    "Missing items in shipment {n}",
    "Password reset link expired immediately",
];

pub(crate) const UTF8_SUBJECTS: [&str; 14] = [
    "Rückfrage zu Bestellung Nr. {n}",
    "Größere Datei lässt sich nicht hochladen",
    "Zugang gesperrt – bitte dringend prüfen",
    "Problème de connexion à l'espace client",
    "Facture erronée — merci de vérifier",
    "Demande de résiliation de l'abonnement",
    "Livraison reçue incomplète, commande {n}",
    "ログインできません",
    "請求書について質問があります",
    "パスワードの再設定ができない（至急）",
    "🚨 Production down since this morning",
    "Thanks for the quick fix 🙏",
    "Export broken again 😩 ticket {n}",
    "Ärger mit der Rechnung 💸",
];

pub(crate) const SENTENCES: [&str; 28] = [
    "Since yesterday afternoon none of our users can sign in to the web interface.",
    "I have attached a screenshot of the error message we keep seeing.",
    "We already cleared the browser cache and tried a different network, without success.",
    "Could you please check whether something changed on your side?",
    "This is blocking our month-end closing, so a quick answer would be much appreciated.",
    "The problem started right after we upgraded to the latest version.",
    "Our account number is listed in the signature below.",
    "From what I can tell, only the accounts created last week are affected.",
    "I called the hotline this morning but was asked to send an email instead.",
    "The invoice lists twelve seats although we only ordered ten.",
    "We would like to understand how the price for the renewal was calculated.",
    "The export runs for about ten minutes and then stops with an internal error.",
    "Several colleagues report the same behaviour on Windows and on macOS.",
    "Please let me know if you need any log files or further details.",
    "We did not receive a confirmation email after placing the order.",
    "The tracking link says the parcel was delivered, but nobody here received it.",
    "Is there a workaround we can use until the issue is fixed?",
    "I am not sure whether this is a bug or a configuration problem on our end.",
    "Thank you for the quick reply, the steps you described solved part of the problem.",
    "Unfortunately the error came back after about an hour.",
    "From our side nothing changed in the configuration for months.",
    "Our IT department confirmed that the firewall is not blocking your servers.",
    "We need this resolved before our audit at the end of the week.",
    "Could you escalate this to the technical team?",
    "The same request worked fine until last Friday.",
    "I tried again with a fresh account and the result is identical.",
    "Attached you will find the requested documents.",
    "Kind regards and thanks in advance for your help.",
];

pub(crate) const DISCLAIMER: &str = "This e-mail and any attachments are confidential and \
may be privileged. If you are not the intended recipient, please notify the sender \
immediately and delete this message. Any unauthorised use, disclosure or copying is \
prohibited. We accept no liability for viruses transmitted with this message.";

pub(crate) const GREETINGS: [&str; 5] = [
    "Hello,",
    "Hi team,",
    "Dear support,",
    "Good morning,",
    "Hi,",
];
pub(crate) const UTF8_GREETINGS: [&str; 5] = [
    "Sehr geehrte Damen und Herren,",
    "Bonjour à toute l'équipe,",
    "お世話になっております。",
    "Hallo zusammen 👋",
    "Grüß Gott,",
];

pub(crate) const OUT_OF_OFFICE: &str = "Thank you for your message. I am out of the office \
with limited access to e-mail and will reply as soon as possible after my return.\n\n\
Vielen Dank für Ihre Nachricht. Ich bin derzeit nicht im Büro und habe nur eingeschränkten \
Zugriff auf meine E-Mails.\n\n\
Merci pour votre message. Je suis actuellement absent(e) et je vous répondrai dès mon retour.";

pub(crate) const FOOTER: &str = "--\nRegistered office: 12 Example Street, 10115 Berlin. \
Commercial register: HRB 123456 B. Managing directors: A. Example, B. Sample.\n\
This message was sent automatically; replies to it are not monitored.";

/// Replaces `{n}` with a number.
pub(crate) fn fill_number(template: &str, n: usize) -> String {
    template.replace("{n}", &n.to_string())
}

/// RFC 2047 encoded words for a UTF-8 header value, folded (`\n `) between words so that no
/// word exceeds 75 characters; `q` selects Q encoding instead of B.
pub(crate) fn encode_words(text: &str, q: bool, out: &mut String) {
    let mut start = 0;
    let mut first = true;
    while start < text.len() {
        let mut end = start;
        for (i, c) in text[start..].char_indices() {
            let next = start + i + c.len_utf8();
            let cost = if q {
                q_len(&text[start..next])
            } else {
                (next - start).div_ceil(3) * 4
            };
            if cost > 40 && end > start {
                break;
            }
            end = next;
        }
        if !first {
            out.push_str("\n ");
        }
        first = false;
        let word = &text[start..end];
        if q {
            out.push_str("=?UTF-8?Q?");
            for &b in word.as_bytes() {
                match b {
                    b' ' => out.push('_'),
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' => out.push(b as char),
                    _ => out.push_str(&format!("={b:02X}")),
                }
            }
        } else {
            out.push_str("=?UTF-8?B?");
            BASE64_STANDARD.encode_string(word.as_bytes(), out);
        }
        out.push_str("?=");
        start = end;
    }
}

fn q_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b" .-".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode_back() {
        for subject in UTF8_SUBJECTS {
            for q in [false, true] {
                let mut header = String::from("Subject: ");
                encode_words(subject, q, &mut header);
                assert!(header.lines().all(|l| l.len() <= 76), "{header}");
                let raw = format!("{header}\n\nbody\n");
                let parsed = mail_parser::MessageParser::default()
                    .parse(raw.as_bytes())
                    .unwrap();
                assert_eq!(parsed.subject(), Some(subject), "{header}");
            }
        }
    }

    #[test]
    fn three_hundred_customers_on_sixty_domains() {
        let customers: Vec<_> = (0..300).map(|i| customer(i, 60)).collect();
        let addresses: std::collections::HashSet<_> =
            customers.iter().map(|c| c.address.as_str()).collect();
        let domains: std::collections::HashSet<_> =
            customers.iter().map(|c| c.domain.as_str()).collect();
        assert_eq!(addresses.len(), 300);
        assert_eq!(domains.len(), 60);
    }
}
